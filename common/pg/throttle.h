// Throttle: sliding-window limits on attempts (wrong passwords, check-in and pickup codes,
// lookups), kept in the service's own throttle_events table (each schema has one, created by its
// migrations) so every replica sees the same counts. Each attempt is
// one row (a sliding log): a limit holds over the last `window` exactly, and the wait told to a
// refused caller is the time until the attempt that blocks it leaves the window, to the second.
//
//   Throttle throttle(pool, [](int64_t s) { return Refuse(kResourceExhausted, v1::..., ...); });
//   absl::StatusOr<Throttle::Ticket> t = throttle.Take({{"login:addr:1.2.3.4", 50, kWindow}}, now);
//   if (!t.ok()) return t.status();            // the service's refusal, with RetryInfo
//   if (attempt_succeeded) throttle.Refund(*t);  // only failures count
//
// Thread-safe: concurrent Takes of one bucket are serialized by a transaction-scoped advisory
// lock per bucket, so parallel attempts cannot all slip under a limit.
#ifndef CIVICPOINTS_COMMON_PG_THROTTLE_H_
#define CIVICPOINTS_COMMON_PG_THROTTLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace pqxx {
class row;
class transaction_base;
}  // namespace pqxx

namespace civicpoints::pg {

class PgPool;

class Throttle {
 public:
  // The longest window a limit may use; events older than this are swept.
  static constexpr absl::Duration kLongestWindow = absl::Hours(24);

  // One bucket's rule. By default a hard limit: at most `limit` attempts within any `window`.
  // With `first_delay` set it never locks: past `limit` attempts within `window`, each further
  // attempt must come `first_delay` doubled per attempt beyond the limit (at most `max_delay`)
  // after the bucket's latest attempt — a growing delay, as for guesses at one phone from many
  // addresses, which must slow an attacker without locking the owner out.
  struct Limit {
    std::string bucket;
    int limit = 0;
    absl::Duration window;
    absl::Duration first_delay = absl::ZeroDuration();
    absl::Duration max_delay = absl::ZeroDuration();
  };

  // The attempts one Take counted, to be refunded when they turn out not to count.
  struct Ticket {
    std::vector<int64_t> event_ids;
  };

  // What a refused attempt is answered, given the wait in whole seconds (rounded up, at least 1):
  // the service's refusal with its reason and message; the throttle adds the RetryInfo.
  using Refusal = std::function<absl::Status(int64_t wait_seconds)>;
  // RESOURCE_EXHAUSTED "too many attempts; try again in N seconds", without a reason.
  static absl::Status TooManyAttempts(int64_t wait_seconds);

  // `pool` must outlive the throttle.
  explicit Throttle(pg::PgPool* pool, Refusal refusal = &TooManyAttempts)
      : pool_(pool), refusal_(std::move(refusal)) {}

  // Counts one attempt at `now` in every bucket of `limits`, all or none. Errors: the refusal
  // (for the longest wait of the buckets that refuse, with it as RetryInfo) when any bucket is at
  // its limit; INVALID_ARGUMENT for a window longer than kLongestWindow; UNAVAILABLE and the like
  // from the database.
  absl::StatusOr<Ticket> Take(absl::Span<const Limit> limits, absl::Time now);

  // Uncounts the attempts of `ticket` (a login that succeeded). Failures are logged, not returned:
  // at worst a caller keeps one attempt fewer.
  void Refund(const Ticket& ticket);
  // As Refund, in the caller's transaction: the attempt is uncounted in the same commit as the
  // work that showed it was no guess.
  static void Refund(pqxx::transaction_base& tx, const Ticket& ticket);
  // The wait before `limit` would admit an attempt at `now`, read in the caller's transaction
  // without counting anything (zero when one is admitted), for a caller that must not even try
  // while refused; Refused turns it into the answer.
  static absl::Duration WaitIn(pqxx::transaction_base& tx, const Limit& limit, absl::Time now);
  // For a caller judging an attempt in its own transaction, so that a right attempt costs one
  // commit: LockIn takes `bucket`'s lock until the transaction ends (the lock Take takes, so a
  // WaitIn after it sees every attempt counted before), CountIn records one attempt at `now` in
  // the transaction (commit it with the refusal: RunIdempotent's CommitAndRefuse).
  static void LockIn(pqxx::transaction_base& tx, const std::string& bucket);
  static void CountIn(pqxx::transaction_base& tx, const std::string& bucket, absl::Time now);
  // WaitIn's read carried by a statement of the caller's, one round trip fewer; the statement
  // must start after LockIn returned. RecentColumns is two select-list columns reading the bucket
  // from placeholder $`bucket_param` and the window's start (WindowStartUs) from the next one;
  // WaitFromColumns judges the row whose first two columns they are.
  static std::string RecentColumns(const Limit& limit, int bucket_param);
  static int64_t WindowStartUs(const Limit& limit, absl::Time now);
  static absl::Duration WaitFromColumns(const Limit& limit, const pqxx::row& row, absl::Time now);
  // The refusal for a wait of `wait` (> 0), with its RetryInfo.
  absl::Status Refused(absl::Duration wait) const;
  // Uncounts the newest attempt of `bucket`, for a caller that kept no ticket.
  void RefundLatest(const std::string& bucket);

  // The wait before bucket `limit` admits an attempt at `now`, given its attempts within the
  // window, newest first (`recent`, at most `limit.limit` of them for a hard limit) and how many
  // there are in all (`count`). Zero when one is admitted now. Exposed for tests.
  static absl::Duration WaitFor(const Limit& limit, const std::vector<absl::Time>& recent,
                                int64_t count, absl::Time now);

 private:
  // WaitFor given only the attempt that decides: the limit-th newest for a hard limit, the
  // newest for a growing delay (none when there are fewer).
  static absl::Duration WaitAfter(const Limit& limit, std::optional<absl::Time> deciding,
                                  int64_t count, absl::Time now);

  pg::PgPool* const pool_;
  const Refusal refusal_;
  std::atomic<uint64_t> takes_{0};
};

}  // namespace civicpoints::pg

#endif  // CIVICPOINTS_COMMON_PG_THROTTLE_H_
