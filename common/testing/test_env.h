// Test helpers for tests that run against the real PostgreSQL started by the ctest fixture
// (tests/CMakeLists.txt passes its URL in CP_TEST_PG_URL).
#ifndef CIVICPOINTS_COMMON_TESTING_TEST_ENV_H_
#define CIVICPOINTS_COMMON_TESTING_TEST_ENV_H_

#include <functional>
#include <string>

#include "absl/time/time.h"

namespace civicpoints::testing {

// The fixture's PostgreSQL URL; fails the current test (and returns "") when it is not set.
std::string TestPgUrl();

// A database of its own for one test: created empty on construction, dropped on destruction, so
// tests never see each other's rows.
class ScratchDatabase {
 public:
  ScratchDatabase();
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// Runs `statement` on the database at `url` with `schema` first on the search path, commits, and
// returns the first column of its first row as text ("" when there is none or it is NULL).
std::string FirstCell(const std::string& url, const std::string& schema,
                      const std::string& statement);

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout);

// The body and headers of GET http://127.0.0.1:port/path (HTTP/1.0), or "" when nothing listens.
std::string HttpGet(int port, const std::string& path);

// A free TCP port on 127.0.0.1 (bound and released, so racy only against other processes).
int FreePort();

}  // namespace civicpoints::testing

#endif  // CIVICPOINTS_COMMON_TESTING_TEST_ENV_H_
