#include "services/identity/revocation_feed.h"

#include <pqxx/pqxx>

#include "absl/time/clock.h"
#include "common/base/time_units.h"
#include "common/log/log.h"
#include "common/pg/pg_pool.h"

namespace civicpoints::identity {
namespace {

// 's': every token of the session id is refused; 'p': tokens of the subject issued up to then.
// API-key tokens carry the key's id as their session. Disabled service accounts are listed
// however long ago (they are few, and never come back): the event feed stops their webhooks by
// this list whenever it next has something to send them.
constexpr char kRevocationsSql[] =
    "SELECT 's', session_id, us(revoked_at) FROM sessions WHERE revoked_at > from_us($1) "
    "UNION ALL SELECT 's', api_key_id, us(revoked_at) FROM api_keys "
    "  WHERE revoked_at > from_us($1) "
    "UNION ALL SELECT 'p', person_id, us(revoked_at) FROM role_grants "
    "  WHERE revoked_at > from_us($1) "
    "UNION ALL SELECT 'p', person_id, us(updated_at) FROM people "
    "  WHERE status <> person_status('ACTIVE') AND updated_at > from_us($1) "
    "UNION ALL SELECT 'p', service_account_id, us(disabled_at) FROM service_accounts "
    "  WHERE disabled_at IS NOT NULL";

using times::SetTime;

}  // namespace

RevocationFeed::RevocationFeed(pg::PgPool* pool, absl::Duration max_age, absl::Duration refresh)
    : pool_(pool), max_age_(max_age), refresh_(refresh) {}

absl::StatusOr<std::shared_ptr<const RevocationFeed::Snapshot>> RevocationFeed::Read() const {
  auto snapshot = std::make_shared<Snapshot>();
  const int64_t since_us = absl::ToUnixMicros(absl::Now() - max_age_);
  absl::Status s = pool_->WithReadConnection("list revocations", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    for (const pqxx::row& r : tx.exec_params(kRevocationsSql, since_us)) {
      const bool session = r[0].as<std::string>() == "s";
      const std::string digest = auth::RevocationDigest(r[1].as<std::string>());
      const int64_t at_us = r[2].as<int64_t>();
      v1::Revocation* out =
          session ? snapshot->answer.add_sessions() : snapshot->answer.add_subjects();
      out->set_digest(digest);
      SetTime(out->mutable_revoke_time(), at_us);
      if (session) {
        snapshot->set.AddSession(digest, absl::FromUnixMicros(at_us));
      } else {
        snapshot->set.AddSubject(digest, absl::FromUnixMicros(at_us));
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  snapshot->answer.set_max_age_seconds(static_cast<int32_t>(absl::ToInt64Seconds(max_age_)));
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

absl::StatusOr<std::shared_ptr<const RevocationFeed::Snapshot>> RevocationFeed::Current() const {
  {
    absl::MutexLock lock(&mu_);
    if (last_ != nullptr && absl::Now() - read_at_ < refresh_) return last_;
  }
  absl::MutexLock reading(&read_mu_);
  {
    // Another caller may have read it while this one waited.
    absl::MutexLock lock(&mu_);
    if (last_ != nullptr && absl::Now() - read_at_ < refresh_) return last_;
  }
  const absl::Time started = absl::Now();
  absl::StatusOr<std::shared_ptr<const Snapshot>> read = Read();
  if (!read.ok()) return read.status();
  absl::MutexLock lock(&mu_);
  last_ = *read;
  read_at_ = started;
  return last_;
}

bool RevocationFeed::Revoked(const auth::Principal& principal) const {
  absl::StatusOr<std::shared_ptr<const Snapshot>> current = Current();
  if (current.ok()) return (*current)->set.Revoked(principal);
  absl::MutexLock lock(&mu_);
  if (last_ == nullptr) {
    log::Warn("revocations unreadable and none read yet; token accepted",
              {{"error", std::string(current.status().message())}});
    return false;
  }
  return last_->set.Revoked(principal);
}

}  // namespace civicpoints::identity
