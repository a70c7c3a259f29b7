#include "common/pg/throttle.h"

#include <algorithm>
#include <cmath>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/time_units.h"
#include "common/log/log.h"
#include "common/pg/pg_pool.h"
#include "common/pg/prepared.h"
#include "common/pg/sql_values.h"
#include "common/pg/transactions.h"
#include "common/status/grpc_status.h"

namespace civicpoints::pg {
namespace {

using times::Us;

// Whole seconds, rounded up: a client that waits exactly this long is admitted.
absl::Duration CeilSeconds(absl::Duration d) {
  return absl::Seconds(std::ceil(absl::ToDoubleSeconds(d)));
}

}  // namespace

absl::Duration Throttle::WaitFor(const Limit& limit, const std::vector<absl::Time>& recent,
                                 int64_t count, absl::Time now) {
  const size_t deciding = limit.first_delay > absl::ZeroDuration()
                              ? 0
                              : static_cast<size_t>(std::max(limit.limit, 1)) - 1;
  return WaitAfter(limit, deciding < recent.size() ? std::optional(recent[deciding]) : std::nullopt,
                   count, now);
}

absl::Duration Throttle::WaitAfter(const Limit& limit, std::optional<absl::Time> deciding,
                                   int64_t count, absl::Time now) {
  if (count < limit.limit || !deciding.has_value()) return absl::ZeroDuration();
  if (limit.first_delay <= absl::ZeroDuration()) {
    // Hard limit: admitted once the limit-th newest attempt has left the window.
    return std::max(absl::ZeroDuration(), *deciding + limit.window - now);
  }
  // Growing delay after the latest attempt: first_delay, doubled per attempt beyond the limit.
  const int64_t beyond = count - limit.limit;
  absl::Duration delay = limit.first_delay;
  for (int64_t i = 0; i < beyond && delay < limit.max_delay; ++i) delay *= 2;
  delay = std::min(delay, limit.max_delay);
  return std::max(absl::ZeroDuration(), *deciding + delay - now);
}

std::string Throttle::RecentColumns(const Limit& limit, int bucket_param) {
  const int offset = limit.first_delay > absl::ZeroDuration() ? 0 : std::max(limit.limit, 1) - 1;
  const std::string where = absl::StrCat("FROM throttle_events WHERE bucket = $", bucket_param,
                                         " AND at_us > $", bucket_param + 1);
  return absl::StrCat("(SELECT count(*) ", where, "), (SELECT at_us ", where,
                      " ORDER BY at_us DESC OFFSET ", offset, " LIMIT 1)");
}

int64_t Throttle::WindowStartUs(const Limit& limit, absl::Time now) {
  return Us(now - limit.window);
}

absl::Duration Throttle::WaitFromColumns(const Limit& limit, const pqxx::row& row, absl::Time now) {
  return WaitAfter(
      limit,
      row[1].is_null() ? std::nullopt : std::optional(absl::FromUnixMicros(row[1].as<int64_t>())),
      row[0].as<int64_t>(), now);
}

absl::Duration Throttle::WaitIn(pqxx::transaction_base& tx, const Limit& limit, absl::Time now) {
  pqxx::result r = Exec(tx, absl::StrCat("SELECT ", RecentColumns(limit, 1)), limit.bucket,
                        WindowStartUs(limit, now));
  return WaitFromColumns(limit, r[0], now);
}

void Throttle::LockIn(pqxx::transaction_base& tx, const std::string& bucket) {
  Exec(tx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", bucket);
}

void Throttle::CountIn(pqxx::transaction_base& tx, const std::string& bucket, absl::Time now) {
  // Counted attempts are the rare kind (wrong codes), so each also drops a few events that left
  // every window, as Take does every 16th time.
  tx.exec_params(
      "WITH swept AS (DELETE FROM throttle_events WHERE event_id = ANY (ARRAY(SELECT event_id "
      "FROM throttle_events WHERE at_us < $3 LIMIT 200))) "
      "INSERT INTO throttle_events (bucket, at_us) VALUES ($1, $2)",
      bucket, Us(now), Us(now - kLongestWindow));
}

absl::StatusOr<Throttle::Ticket> Throttle::Take(absl::Span<const Limit> limits, absl::Time now) {
  std::vector<const Limit*> sorted;
  for (const Limit& l : limits) {
    if (l.window > kLongestWindow || l.window <= absl::ZeroDuration() || l.limit < 1) {
      return absl::InvalidArgumentError(absl::StrCat("throttle bucket ", l.bucket,
                                                     ": needs a limit of at least 1 and a window "
                                                     "of at most 24 hours"));
    }
    sorted.push_back(&l);
  }
  // Buckets are locked in one order, so two Takes sharing buckets cannot deadlock.
  std::sort(sorted.begin(), sorted.end(),
            [](const Limit* a, const Limit* b) { return a->bucket < b->bucket; });
  Ticket ticket;
  absl::Duration wait;
  absl::Status done = InTx(*pool_, "count attempt", [&](pqxx::transaction_base& tx) {
    // Each bucket's lock first: the reads below, in statements of their own, then see every
    // attempt counted before it. Throttling data: losing the last few counts in a crash is
    // harmless, so the commit does not wait for the disk.
    for (const Limit* l : sorted) {
      tx.exec_params(
          "SELECT pg_advisory_xact_lock(hashtextextended($1, 7)), "
          "set_config('synchronous_commit', 'off', true)",
          l->bucket);
    }
    if (sorted.size() == 1 && sorted[0]->first_delay <= absl::ZeroDuration()) {
      // One hard limit, the common case: counted and, when under the limit, recorded in one
      // statement; the exact wait is read only for a refusal.
      const Limit& l = *sorted[0];
      pqxx::row counted = tx.exec_params1(
          "WITH n AS (SELECT count(*) AS total FROM throttle_events "
          "           WHERE bucket = $1 AND at_us > $2), "
          "ins AS (INSERT INTO throttle_events (bucket, at_us) "
          "        SELECT $1, $3 FROM n WHERE n.total < $4 RETURNING event_id) "
          "SELECT (SELECT event_id FROM ins) FROM n",
          l.bucket, Us(now - l.window), Us(now), l.limit);
      if (counted[0].is_null()) {
        // At the limit, so the blocking attempt is still in the window: the wait is positive.
        wait = std::max(WaitIn(tx, l, now), absl::Microseconds(1));
        return absl::OkStatus();  // nothing counted
      }
      ticket.event_ids.push_back(counted[0].as<int64_t>());
    } else {
      for (const Limit* l : sorted) wait = std::max(wait, WaitIn(tx, *l, now));
      if (wait > absl::ZeroDuration()) return absl::OkStatus();  // nothing counted
      for (const Limit* l : sorted) {
        ticket.event_ids.push_back(
            tx.exec_params("INSERT INTO throttle_events (bucket, at_us) VALUES ($1, $2) "
                           "RETURNING event_id",
                           l->bucket, Us(now))[0][0]
                .as<int64_t>());
      }
    }
    // Events that left every window are dropped a few at a time as new ones arrive.
    if (takes_.fetch_add(1) % 16 == 0) {
      tx.exec_params(
          "DELETE FROM throttle_events WHERE event_id = ANY (ARRAY(SELECT event_id FROM "
          "throttle_events WHERE at_us < $1 LIMIT 200))",
          Us(now - kLongestWindow));
    }
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  if (wait <= absl::ZeroDuration()) return ticket;
  return Refused(wait);
}

absl::Status Throttle::TooManyAttempts(int64_t wait_seconds) {
  return absl::ResourceExhaustedError(
      absl::StrCat("too many attempts; try again in ", wait_seconds, " seconds"));
}

absl::Status Throttle::Refused(absl::Duration wait) const {
  const absl::Duration told = std::max(CeilSeconds(wait), absl::Seconds(1));
  return WithRetryDelay(refusal_(absl::ToInt64Seconds(told)), told);
}

void Throttle::Refund(pqxx::transaction_base& tx, const Ticket& ticket) {
  if (ticket.event_ids.empty()) return;
  tx.exec_params("DELETE FROM throttle_events WHERE event_id = ANY($1::bigint[])",
                 IntArray(ticket.event_ids));
}

void Throttle::Refund(const Ticket& ticket) {
  if (ticket.event_ids.empty()) return;
  absl::Status s = InTx(*pool_, "refund attempt", [&](pqxx::transaction_base& tx) {
    tx.exec("SET LOCAL synchronous_commit = off");
    Refund(tx, ticket);
    return absl::OkStatus();
  });
  if (!s.ok()) log::Warn("throttle refund not recorded", {{"error", std::string(s.message())}});
}

void Throttle::RefundLatest(const std::string& bucket) {
  absl::Status s = InTx(*pool_, "refund attempt", [&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "DELETE FROM throttle_events WHERE event_id = (SELECT event_id FROM throttle_events "
        "WHERE bucket = $1 ORDER BY at_us DESC, event_id DESC LIMIT 1)",
        bucket);
    return absl::OkStatus();
  });
  if (!s.ok()) log::Warn("throttle refund not recorded", {{"error", std::string(s.message())}});
}

}  // namespace civicpoints::pg
