#include "services/rewards/ledger_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/server/service_token.h"
#include "common/status/grpc_status.h"

namespace civicpoints::rewards {

namespace lv1 = ::civicpoints::ledger::v1;

std::string LedgerKey(const std::string& redemption_id) {
  return absl::StrCat("rewards/redemption/", redemption_id);
}

LedgerClient::LedgerClient(std::shared_ptr<grpc::Channel> channel, server::ServiceToken* token,
                           absl::Duration timeout)
    : channel_(channel),
      stub_(lv1::LedgerService::NewStub(std::move(channel))),
      token_(token),
      timeout_(timeout) {}

absl::Status LedgerClient::Reachable() {
  if (absl::StatusOr<std::string> token = token_->Get(); !token.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the ledger cannot be called now: ", token.status().message()));
  }
  const grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
    return absl::UnavailableError("the ledger is unreachable; retry with the same key");
  }
  return absl::OkStatus();
}

absl::Status LedgerClient::Prepare(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout_)));
  return server::AttachServiceToken(*token_, ctx);
}

#define CP_LEDGER_CALL(Method, req, resp)                          \
  grpc::ClientContext ctx;                                         \
  if (absl::Status prep = Prepare(ctx); !prep.ok()) return prep;   \
  if (grpc::Status s = stub_->Method(&ctx, req, &resp); !s.ok()) { \
    return FromGrpcStatus(s);                                      \
  }

absl::StatusOr<lv1::Hold> LedgerClient::Hold(const std::string& redemption_id,
                                             const std::string& rider_id, int64_t amount,
                                             absl::Duration timeout,
                                             const common::v1::OrgPath& path,
                                             const std::string& reason) {
  lv1::HoldRequest req;
  req.set_idempotency_key(LedgerKey(redemption_id));
  req.set_order_id(redemption_id);
  req.set_person_id(rider_id);
  req.set_amount(amount);
  req.mutable_timeout()->set_seconds(absl::ToInt64Seconds(timeout));
  if (!path.district_id().empty() && !path.street_id().empty() && !path.community_id().empty()) {
    *req.mutable_org_path() = path;
  }
  req.set_reason(reason.substr(0, 400));
  lv1::HoldResponse resp;
  CP_LEDGER_CALL(Hold, req, resp);
  return resp.hold();
}

absl::StatusOr<lv1::Hold> LedgerClient::Capture(const std::string& redemption_id) {
  lv1::CaptureRequest req;
  req.set_idempotency_key(LedgerKey(redemption_id));
  req.set_order_id(redemption_id);
  lv1::CaptureResponse resp;
  CP_LEDGER_CALL(Capture, req, resp);
  return resp.hold();
}

absl::StatusOr<lv1::Hold> LedgerClient::Release(const std::string& redemption_id,
                                                const std::string& reason) {
  lv1::ReleaseRequest req;
  req.set_idempotency_key(LedgerKey(redemption_id));
  req.set_order_id(redemption_id);
  req.set_reason(reason);
  lv1::ReleaseResponse resp;
  CP_LEDGER_CALL(Release, req, resp);
  return resp.hold();
}

absl::StatusOr<lv1::Hold> LedgerClient::GetHold(const std::string& redemption_id) {
  lv1::GetHoldRequest req;
  req.set_order_id(redemption_id);
  lv1::GetHoldResponse resp;
  CP_LEDGER_CALL(GetHold, req, resp);
  return resp.hold();
}

absl::StatusOr<int64_t> LedgerClient::AvailableBalance(const std::string& rider_id) {
  lv1::GetBalanceRequest req;
  req.set_person_id(rider_id);
  lv1::GetBalanceResponse resp;
  CP_LEDGER_CALL(GetBalance, req, resp);
  return resp.account().available();
}

absl::StatusOr<lv1::RankingSnapshot> LedgerClient::Snapshot(const std::string& key,
                                                            const common::v1::OrgScope& scope,
                                                            const common::v1::RankingPeriod& period,
                                                            int32_t top_n) {
  lv1::SnapshotRankingRequest req;
  req.set_idempotency_key(key);
  *req.mutable_scope() = scope;
  *req.mutable_period() = period;
  req.set_top_n(top_n);
  req.set_include_ties(true);
  lv1::SnapshotRankingResponse resp;
  CP_LEDGER_CALL(SnapshotRanking, req, resp);
  return resp.snapshot();
}

absl::StatusOr<lv1::GetRankResponse> LedgerClient::GetRank(
    const std::string& rider_id, const common::v1::OrgScope& scope,
    const common::v1::RankingPeriod& period) {
  lv1::GetRankRequest req;
  req.set_person_id(rider_id);
  *req.mutable_scope() = scope;
  *req.mutable_period() = period;
  lv1::GetRankResponse resp;
  CP_LEDGER_CALL(GetRank, req, resp);
  return resp;
}

absl::StatusOr<lv1::GetTopRankingResponse> LedgerClient::GetTop(
    const common::v1::OrgScope& scope, const common::v1::RankingPeriod& period, int32_t top_n) {
  lv1::GetTopRankingRequest req;
  *req.mutable_scope() = scope;
  *req.mutable_period() = period;
  req.set_top_n(top_n);
  req.set_include_ties(false);
  lv1::GetTopRankingResponse resp;
  CP_LEDGER_CALL(GetTopRanking, req, resp);
  return resp;
}

#undef CP_LEDGER_CALL

}  // namespace civicpoints::rewards
