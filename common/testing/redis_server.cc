#include "common/testing/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/testing/test_env.h"

namespace civicpoints::testing {
namespace {

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

RedisServer::RedisServer() : port_(FreePort()) {
  char tmpl[] = "/tmp/cp-redis-XXXXXX";
  dir_ = mkdtemp(tmpl);
}

RedisServer::~RedisServer() {
  Stop();
  std::system(("rm -rf '" + dir_ + "'").c_str());
}

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

bool RedisServer::Start() {
  if (pid_ > 0) return true;
  const std::string port = std::to_string(port_);
  pid_ = fork();
  if (pid_ == 0) {
    execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port.c_str(), "--dir",
           dir_.c_str(), "--save", "", "--appendonly", "no", "--loglevel", "warning", "--logfile",
           (dir_ + "/redis.log").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return WaitFor([this] { return Accepts(port_); }, absl::Seconds(10));
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace civicpoints::testing
