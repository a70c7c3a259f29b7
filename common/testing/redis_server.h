// A redis-server child process owned by one test, so the test can stop and restart it (on the same
// port) to check how clients ride through a Redis restart.
#ifndef CIVICPOINTS_COMMON_TESTING_REDIS_SERVER_H_
#define CIVICPOINTS_COMMON_TESTING_REDIS_SERVER_H_

#include <sys/types.h>

#include <string>

namespace civicpoints::testing {

class RedisServer {
 public:
  // Picks a free port; does not start.
  RedisServer();
  ~RedisServer();  // stops the server

  // Starts redis-server and waits until it accepts connections; false if it did not.
  bool Start();
  // Stops it (SIGTERM, then waits for exit).
  void Stop();

  int port() const { return port_; }
  std::string address() const;

 private:
  int port_;
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace civicpoints::testing

#endif  // CIVICPOINTS_COMMON_TESTING_REDIS_SERVER_H_
