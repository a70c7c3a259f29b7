// TcpRelay: a TCP forwarder on 127.0.0.1 in front of another address, for tests that cut a peer
// off and bring it back without restarting it: Cut() resets every relayed connection and refuses
// new ones (a peer that is down), Restore() relays again. One thread per direction of each
// connection; for tests only.
//
//   TcpRelay relay("127.0.0.1:50051");
//   ApiKeyServiceToken token(relay.address(), key);
//   relay.Cut();      // identity is "down"
//   relay.Restore();  // and back
#ifndef CIVICPOINTS_COMMON_TESTING_TCP_RELAY_H_
#define CIVICPOINTS_COMMON_TESTING_TCP_RELAY_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace civicpoints::testing {

class TcpRelay {
 public:
  // Listens on a free port of 127.0.0.1 and forwards to `target` ("127.0.0.1:port").
  explicit TcpRelay(const std::string& target);
  ~TcpRelay();

  // "127.0.0.1:<port>" to connect to instead of the target.
  std::string address() const;
  void Cut();
  void Restore();

 private:
  void AcceptLoop();
  void Pipe(int from, int to);

  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  std::vector<int> open_fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace civicpoints::testing

#endif  // CIVICPOINTS_COMMON_TESTING_TCP_RELAY_H_
