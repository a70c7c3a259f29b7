#include "tests/peers/ledger_peer.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

namespace civicpoints::testing {

LedgerPeer::LedgerPeer(std::map<std::string, std::string> trust) {
  if (!redis_.Start()) {
    ADD_FAILURE() << "redis-server for the ledger did not start";
    return;
  }
  std::map<std::string, std::string> env = std::move(trust);
  env["CP_PG_URL"] = db_.url();
  env["CP_REDIS_ADDR"] = redis_.address();
  auto process = std::make_unique<ServiceProcess>("ledger", std::move(env));
  if (absl::Status s = process->Start(); !s.ok()) {
    ADD_FAILURE() << s;
    return;
  }
  process_ = std::move(process);
}

bool LedgerPeer::Restart() {
  absl::Status s = process_->Start();
  EXPECT_TRUE(s.ok()) << s;
  return s.ok();
}

int64_t LedgerPeer::Sql(const std::string& query) {
  pqxx::connection c(db_.url());
  pqxx::read_transaction tx(c);
  return tx.exec1(query)[0].as<int64_t>();
}

}  // namespace civicpoints::testing
