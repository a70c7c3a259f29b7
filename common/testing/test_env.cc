#include "common/testing/test_env.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <pqxx/pqxx>
#include <random>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace civicpoints::testing {

std::string TestPgUrl() {
  const char* url = std::getenv("CP_TEST_PG_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "CP_TEST_PG_URL is not set; run this test through ctest (make test)";
    return "";
  }
  return url;
}

ScratchDatabase::ScratchDatabase() : admin_url_(TestPgUrl()) {
  std::random_device rd;
  name_ = absl::StrCat("cp_test_", getpid(), "_", rd() % 1000000);
  pqxx::connection conn(admin_url_);
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  // Swap the database name at the end of the URL's path.
  static const std::regex kDb(R"(/[^/?]*(\?|$))");
  url_ = std::regex_replace(admin_url_, kDb, "/" + name_ + "$1",
                            std::regex_constants::format_first_only);
  if (url_ == admin_url_) ADD_FAILURE() << "cannot derive a database URL from " << admin_url_;
}

ScratchDatabase::~ScratchDatabase() {
  try {
    pqxx::connection conn(admin_url_);
    pqxx::nontransaction tx(conn);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cannot drop scratch database " << name_ << ": " << e.what();
  }
}

std::string FirstCell(const std::string& url, const std::string& schema,
                      const std::string& statement) {
  pqxx::connection c(url);
  pqxx::work tx(c);
  tx.exec("SET search_path TO " + tx.quote_name(schema));
  pqxx::result r = tx.exec(statement);
  tx.commit();
  if (r.empty() || r.columns() == 0 || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace civicpoints::testing

namespace civicpoints::testing {

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) {
    close(fd);
    return "";
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

}  // namespace civicpoints::testing
