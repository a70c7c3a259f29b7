#include "services/activity/award_relay.h"
#include "common/server/peer_channel.h"

#include <grpcpp/grpcpp.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/award.pb.h"
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
    // A deployment whose keys or roles are not in place yet: retried (with backoff) until an
    // operator fixes it, rather than given up.
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
      return true;
    default:
      return false;
  }
}

// The ledger's name for what earned an award. The first three share their numbers; the bonus of
// a fixed problem does not (the ledger's 4 is a redemption), so every kind is named here.
ledger::v1::SourceKind LedgerSourceKind(int award_source_kind) {
  switch (static_cast<v1::AwardSourceKind>(award_source_kind)) {
    case v1::AWARD_SOURCE_KIND_ACTIVITY_ATTENDANCE:
      return ledger::v1::SOURCE_KIND_ACTIVITY_ATTENDANCE;
    case v1::AWARD_SOURCE_KIND_POST_SHIFT:
      return ledger::v1::SOURCE_KIND_POST_SHIFT;
    case v1::AWARD_SOURCE_KIND_SERVICE_RECORD:
      return ledger::v1::SOURCE_KIND_SERVICE_RECORD;
    case v1::AWARD_SOURCE_KIND_PROBLEM_CASE:
      return ledger::v1::SOURCE_KIND_PROBLEM_FIXED;
    default:
      return ledger::v1::SOURCE_KIND_UNSPECIFIED;  // refused by the ledger, kept FAILED
  }
}

}  // namespace

AwardRelay::AwardRelay(pg::PgPool* pool, const std::string& ledger_addr,
                       server::ServiceToken* token, Options options)
    : pool_(pool), channel_(server::PeerChannel(ledger_addr)), token_(token), options_(options) {}

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
  // 1. Claim due rows with a lease, in a short transaction: no row stays locked while the ledger
  //    is called, and another replica skips them until the lease runs out.
  struct Outcome {
    std::string key;
    int attempts = 0;
    absl::Status status;
    std::string entry_id;
  };
  std::vector<ledger::v1::AwardRequest> claimed;
  std::vector<int> attempts;
  absl::Status s = pg::InTx(*pool_, "claim awards", [&](pqxx::transaction_base& tx) {
    pqxx::result due = tx.exec_params(
        "UPDATE awards SET next_attempt_at = now() + make_interval(secs => $2::double precision) "
        "WHERE idempotency_key IN (SELECT idempotency_key FROM awards WHERE status = "
        "award_status('PENDING') AND "
        "next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
        "RETURNING idempotency_key, source_kind, source_id, rider_id, points, district_id, "
        "street_id, community_id, rule_org_id, rule_version, verified_by, us(occur_at), reason, "
        "attempts",
        options_.batch, absl::ToDoubleSeconds(options_.lease));
    for (const auto& row : due) {
      ledger::v1::AwardRequest req;
      req.set_idempotency_key(row[0].as<std::string>());
      req.set_person_id(row[3].as<std::string>());
      req.set_amount(row[4].as<int64_t>());
      req.set_source_kind(LedgerSourceKind(row[1].as<int>()));
      req.set_source_id(row[2].as<std::string>());
      req.set_verified_by_person_id(row[10].as<std::string>());
      req.set_points_rule_id(absl::StrCat(row[8].as<std::string>(), "@v", row[9].as<int64_t>()));
      req.mutable_org_path()->set_district_id(row[5].as<std::string>());
      req.mutable_org_path()->set_street_id(row[6].as<std::string>());
      req.mutable_org_path()->set_community_id(row[7].as<std::string>());
      SetTime(req.mutable_occur_time(), row[11].as<int64_t>());
      req.set_reason(row[12].as<std::string>());
      claimed.push_back(std::move(req));
      attempts.push_back(row[13].as<int>() + 1);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (claimed.empty()) return 0;

  // 2. Call the ledger with no transaction open. A pass stops early when the ledger is
  //    unreachable, or when half the lease is used; unsent rows wait for their lease to end.
  auto stub = ledger::v1::LedgerService::NewStub(channel_);
  const absl::Time started = absl::Now();
  std::vector<Outcome> outcomes;
  for (size_t i = 0; i < claimed.size(); ++i) {
    if (absl::Now() - started > options_.lease / 2) break;
    Outcome o{claimed[i].idempotency_key(), attempts[i], absl::OkStatus(), ""};
    ledger::v1::AwardResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     absl::ToChronoMilliseconds(options_.call_deadline));
    o.status = server::AttachServiceToken(*token_, ctx);
    if (o.status.ok()) o.status = FromGrpcStatus(stub->Award(&ctx, claimed[i], &resp));
    o.entry_id = resp.entry().entry_id();
    const absl::StatusCode code = o.status.code();
    outcomes.push_back(std::move(o));
    if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
      break;
    }
  }

  // 3. Record the outcomes. A crash before this commits re-sends the rows after their lease;
  //    the ledger answers a repeated key with the entry it already made.
  int delivered = 0;
  s = pg::InTx(*pool_, "record award deliveries", [&](pqxx::transaction_base& tx) {
    delivered = 0;
    for (const Outcome& o : outcomes) {
      if (o.status.ok()) {
        tx.exec_params(
            "UPDATE awards SET status = award_status('AWARDED'), awarded_at = now(), "
            "ledger_entry_id = $2, "
            "attempts = $3, last_error = '' WHERE idempotency_key = $1 AND status = "
            "award_status('PENDING')",
            o.key, o.entry_id, o.attempts);
        ++delivered;
        continue;
      }
      const std::string error = absl::StrCat(absl::StatusCodeToString(o.status.code()), ": ",
                                             std::string(o.status.message()).substr(0, 460));
      if (Transient(o.status.code())) {
        absl::Duration wait = options_.first_backoff * (int64_t{1} << std::min(o.attempts - 1, 20));
        wait = std::min(wait, options_.max_backoff);
        tx.exec_params(
            "UPDATE awards SET attempts = $2, last_error = $3, "
            "next_attempt_at = now() + make_interval(secs => $4::double precision) "
            "WHERE idempotency_key = $1 AND status = award_status('PENDING')",
            o.key, o.attempts, error, absl::ToDoubleSeconds(wait));
      } else {
        log::Error("the ledger refused an award; marked FAILED for an operator",
                   {{"idempotency_key", o.key}, {"error", error}});
        tx.exec_params(
            "UPDATE awards SET status = award_status('FAILED'), attempts = $2, last_error = $3 "
            "WHERE idempotency_key = $1 AND status = award_status('PENDING')",
            o.key, o.attempts, error);
      }
    }
    // Rows the pass did not reach go back to the queue after the first backoff, not the lease.
    for (size_t i = outcomes.size(); i < claimed.size(); ++i) {
      tx.exec_params(
          "UPDATE awards SET next_attempt_at = now() + make_interval(secs => $2::double precision) "
          "WHERE idempotency_key = $1 AND status = award_status('PENDING')",
          claimed[i].idempotency_key(), absl::ToDoubleSeconds(options_.first_backoff));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return delivered;
}

absl::StatusOr<int> AwardRelay::RetryFailed() {
  int retried = 0;
  absl::Status s = pg::InTx(*pool_, "retry failed awards", [&](pqxx::transaction_base& tx) {
    retried = static_cast<int>(tx.exec("UPDATE awards SET status = award_status('PENDING'), "
                                       "next_attempt_at = now() WHERE status = "
                                       "award_status('FAILED')")
                                   .affected_rows());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (retried > 0) log::Warn("awards the ledger refused are sent once more", {{"awards", retried}});
  return retried;
}

}  // namespace civicpoints::activity
