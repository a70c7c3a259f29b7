// The ledger as another service's test meets it: the civicpoints-ledger binary over a scratch
// database and a Redis server of its own, trusting the tokens the test's settings name (identity's
// published keys, or a JWKS file of test keys). It can crash and come back on the same address.
//
//   LedgerPeer ledger({{"CP_IDENTITY_ADDR", identity.address()}});
//   ASSERT_TRUE(ledger.ok());
//   ledger.Kill();      // awards now meet UNAVAILABLE
//   ledger.Restart();
//   EXPECT_EQ(ledger.Sql("SELECT count(*) FROM ledger.entries"), 2);
#ifndef CIVICPOINTS_TESTS_PEERS_LEDGER_PEER_H_
#define CIVICPOINTS_TESTS_PEERS_LEDGER_PEER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/testing/redis_server.h"
#include "common/testing/service_process.h"
#include "common/testing/test_env.h"

namespace civicpoints::testing {

class LedgerPeer {
 public:
  // `trust` are the settings that say whose tokens the ledger accepts (CP_IDENTITY_ADDR,
  // CP_JWKS_FILE). Starts it; check ok() before use.
  explicit LedgerPeer(std::map<std::string, std::string> trust);

  bool ok() const { return process_ != nullptr && process_->running(); }
  std::string address() const { return process_->address(); }
  // A crash (SIGKILL) and a start on the same address, stores intact; Restart fails the test and
  // returns false when the ledger does not serve again.
  void Kill() { process_->Kill(); }
  bool Restart();
  // The first column of the first row of a query on the ledger's database ("ledger." tables).
  int64_t Sql(const std::string& query);

 private:
  ScratchDatabase db_;
  RedisServer redis_;
  std::unique_ptr<ServiceProcess> process_;
};

}  // namespace civicpoints::testing

#endif  // CIVICPOINTS_TESTS_PEERS_LEDGER_PEER_H_
