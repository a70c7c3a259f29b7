#include "common/testing/tcp_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace civicpoints::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Closes with a reset rather than a FIN, as a peer that died would look.
void Reset(int fd) {
  linger l{.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  shutdown(fd, SHUT_RDWR);
}

}  // namespace

TcpRelay::TcpRelay(const std::string& target)
    : target_port_(std::atoi(target.substr(target.rfind(':') + 1).c_str())) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Loopback(0);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(listen_fd_, 64);
  socklen_t len = sizeof a;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpRelay::~TcpRelay() {
  stopping_ = true;
  Cut();
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  absl::MutexLock lock(&mu_);
  for (int fd : open_fds_) close(fd);
}

std::string TcpRelay::address() const { return absl::StrCat("127.0.0.1:", port_); }

void TcpRelay::Cut() {
  cut_ = true;
  absl::MutexLock lock(&mu_);
  for (int fd : open_fds_) Reset(fd);
}

void TcpRelay::Restore() { cut_ = false; }

void TcpRelay::AcceptLoop() {
  while (!stopping_) {
    pollfd p{.fd = listen_fd_, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    if (cut_) {
      Reset(client);
      close(client);
      continue;
    }
    const int upstream = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = Loopback(target_port_);
    if (connect(upstream, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Reset(client);
      close(client);
      close(upstream);
      continue;
    }
    absl::MutexLock lock(&mu_);
    open_fds_.push_back(client);
    open_fds_.push_back(upstream);
    threads_.emplace_back([this, client, upstream] { Pipe(client, upstream); });
    threads_.emplace_back([this, client, upstream] { Pipe(upstream, client); });
  }
}

void TcpRelay::Pipe(int from, int to) {
  char buf[16384];
  while (true) {
    const ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0 || cut_) break;
    ssize_t off = 0;
    while (off < n) {
      const ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0) return;
      off += w;
    }
  }
  // The other direction's read now ends too; the descriptors are closed by the destructor.
  shutdown(to, SHUT_RDWR);
  shutdown(from, SHUT_RDWR);
}

}  // namespace civicpoints::testing
