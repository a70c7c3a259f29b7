// LedgerClient: the ledger calls of the redemption saga and of eligibility, over gRPC with the
// service token and a deadline per call. Every mutation carries the key
// "rewards/redemption/<order id>", so each saga step may be repeated. The ledger's statuses come
// back unchanged (FAILED_PRECONDITION for too few points, NOT_FOUND for no hold, ...). Thread-safe.
#ifndef CIVICPOINTS_SERVICES_REWARDS_LEDGER_CLIENT_H_
#define CIVICPOINTS_SERVICES_REWARDS_LEDGER_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"

namespace civicpoints::server {
class ServiceToken;
}

namespace civicpoints::rewards {

// The ledger idempotency key (and order id) of a redemption's saga steps.
std::string LedgerKey(const std::string& redemption_id);

class LedgerClient {
 public:
  LedgerClient(std::shared_ptr<grpc::Channel> channel, server::ServiceToken* token,
               absl::Duration timeout = absl::Seconds(10));

  // UNAVAILABLE when a call would fail at once: no service token can be had (identity away), or
  // the channel has found the ledger unreachable. Cheap (no call): a check before writing
  // anything that a ledger call must follow.
  absl::Status Reachable();

  absl::StatusOr<ledger::v1::Hold> Hold(const std::string& redemption_id,
                                        const std::string& rider_id, int64_t amount,
                                        absl::Duration timeout, const common::v1::OrgPath& path,
                                        const std::string& reason);
  absl::StatusOr<ledger::v1::Hold> Capture(const std::string& redemption_id);
  absl::StatusOr<ledger::v1::Hold> Release(const std::string& redemption_id,
                                           const std::string& reason);
  absl::StatusOr<ledger::v1::Hold> GetHold(const std::string& redemption_id);
  // The rider's available balance (0 for a rider never awarded).
  absl::StatusOr<int64_t> AvailableBalance(const std::string& rider_id);
  absl::StatusOr<ledger::v1::RankingSnapshot> Snapshot(const std::string& key,
                                                       const common::v1::OrgScope& scope,
                                                       const common::v1::RankingPeriod& period,
                                                       int32_t top_n);
  absl::StatusOr<ledger::v1::GetRankResponse> GetRank(const std::string& rider_id,
                                                      const common::v1::OrgScope& scope,
                                                      const common::v1::RankingPeriod& period);
  absl::StatusOr<ledger::v1::GetTopRankingResponse> GetTop(const common::v1::OrgScope& scope,
                                                           const common::v1::RankingPeriod& period,
                                                           int32_t top_n);

 private:
  absl::Status Prepare(grpc::ClientContext& ctx);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ledger::v1::LedgerService::Stub> stub_;
  server::ServiceToken* token_;
  absl::Duration timeout_;
};

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_LEDGER_CLIENT_H_
