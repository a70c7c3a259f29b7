#include "services/activity/award_relay.h"

#include <grpcpp/grpcpp.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "common/log/log.h"
#include "common/pg/transactions.h"
#include "common/server/service_token.h"
#include "common/status/grpc_status.h"
#include "services/activity/support.h"

namespace civicpoints::activity {
namespace {

// Codes after which the same request may succeed later.
bool Transient(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnauthenticated:  // our token expired or identity is restarting
      return true;
    default:
      return false;
  }
}

}  // namespace

AwardRelay::AwardRelay(pg::PgPool* pool, const std::string& ledger_addr,
                       server::ServiceToken* token, Options options)
    : pool_(pool),
      channel_(grpc::CreateChannel(ledger_addr, grpc::InsecureChannelCredentials())),
      token_(token),
      options_(options) {}

AwardRelay::~AwardRelay() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void AwardRelay::Start() {
  thread_ = std::thread([this] { Run(); });
}

void AwardRelay::Nudge() {
  absl::MutexLock lock(&mu_);
  nudged_ = true;
}

void AwardRelay::Run() {
  while (true) {
    absl::StatusOr<int> delivered = DeliverDue();
    if (!delivered.ok()) {
      log::Warn("award relay pass failed", {{"error", std::string(delivered.status().message())}});
    }
    absl::MutexLock lock(&mu_);
    // A full batch may mean more is due: go again at once.
    if (delivered.ok() && *delivered >= options_.batch) nudged_ = true;
    auto wake = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || nudged_; };
    mu_.AwaitWithTimeout(absl::Condition(&wake), options_.idle_poll);
    if (stop_) return;
    nudged_ = false;
  }
}

absl::StatusOr<int> AwardRelay::DeliverDue() {
  int delivered = 0;
  auto stub = ledger::v1::LedgerService::NewStub(channel_);
  absl::Status s = pg::InTx(*pool_, "deliver awards", [&](pqxx::transaction_base& tx) {
    pqxx::result due = tx.exec_params(
        "SELECT idempotency_key, source_kind, source_id, rider_id, points, district_id, "
        "street_id, community_id, rule_org_id, rule_version, verified_by, us(occur_at), reason, "
        "attempts FROM awards WHERE status = 1 AND next_attempt_at <= now() "
        "ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED",
        options_.batch);
    for (const auto& row : due) {
      const std::string key = row[0].as<std::string>();
      ledger::v1::AwardRequest req;
      req.set_idempotency_key(key);
      req.set_person_id(row[3].as<std::string>());
      req.set_amount(row[4].as<int64_t>());
      req.set_source_kind(static_cast<ledger::v1::SourceKind>(row[1].as<int>()));
      req.set_source_id(row[2].as<std::string>());
      req.set_verified_by_person_id(row[10].as<std::string>());
      req.set_points_rule_id(absl::StrCat(row[8].as<std::string>(), "@v", row[9].as<int64_t>()));
      req.mutable_org_path()->set_district_id(row[5].as<std::string>());
      req.mutable_org_path()->set_street_id(row[6].as<std::string>());
      req.mutable_org_path()->set_community_id(row[7].as<std::string>());
      SetTime(req.mutable_occur_time(), row[11].as<int64_t>());
      req.set_reason(row[12].as<std::string>());
      const int attempts = row[13].as<int>() + 1;

      absl::Status result;
      ledger::v1::AwardResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(options_.call_deadline));
      result = server::AttachServiceToken(*token_, ctx);
      if (result.ok()) result = FromGrpcStatus(stub->Award(&ctx, req, &resp));
      if (result.ok()) {
        tx.exec_params(
            "UPDATE awards SET status = 2, awarded_at = now(), ledger_entry_id = $2, "
            "attempts = $3, last_error = '' WHERE idempotency_key = $1",
            key, resp.entry().entry_id(), attempts);
        ++delivered;
        continue;
      }
      const std::string error = std::string(result.message()).substr(0, 480);
      if (Transient(result.code())) {
        absl::Duration wait = options_.first_backoff * (int64_t{1} << std::min(attempts - 1, 20));
        wait = std::min(wait, options_.max_backoff);
        tx.exec_params(
            "UPDATE awards SET attempts = $2, last_error = $3, "
            "next_attempt_at = now() + make_interval(secs => $4::double precision) "
            "WHERE idempotency_key = $1",
            key, attempts, absl::StrCat(absl::StatusCodeToString(result.code()), ": ", error),
            absl::ToDoubleSeconds(wait));
        // The ledger is unreachable: the rest of the batch would only wait out the same error.
        if (result.code() == absl::StatusCode::kUnavailable ||
            result.code() == absl::StatusCode::kDeadlineExceeded) {
          break;
        }
      } else {
        log::Error("the ledger refused an award; marked FAILED for an operator",
                   {{"idempotency_key", key}, {"error", error}});
        tx.exec_params(
            "UPDATE awards SET status = 4, attempts = $2, last_error = $3 "
            "WHERE idempotency_key = $1",
            key, attempts, absl::StrCat(absl::StatusCodeToString(result.code()), ": ", error));
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return delivered;
}

}  // namespace civicpoints::activity
