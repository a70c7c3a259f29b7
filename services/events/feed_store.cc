#include "services/events/feed_store.h"

#include <pqxx/pqxx>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base/time_units.h"
#include "common/pg/pg_pool.h"
#include "common/pg/transactions.h"
#include "services/events/cursor.h"

namespace civicpoints::events {
namespace {

constexpr int kColumns = 10;
constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";
constexpr absl::string_view kColumnList =
    "seq, event_id::text, source, type, subject, us(occurred_at), district_id, street_id, "
    "community_id, data_type, data";

EventPtr RowToEvent(const pqxx::row& row) {
  auto stored = std::make_shared<StoredEvent>();
  stored->seq = row[0].as<int64_t>();
  v1::Event& e = stored->event;
  e.set_id(row[1].as<std::string>());
  e.set_source(row[2].as<std::string>());
  e.set_type(row[3].as<std::string>());
  e.set_subject(row[4].as<std::string>());
  times::SetTime(e.mutable_time(), row[5].as<int64_t>());
  e.mutable_org_path()->set_district_id(row[6].as<std::string>());
  e.mutable_org_path()->set_street_id(row[7].as<std::string>());
  e.mutable_org_path()->set_community_id(row[8].as<std::string>());
  e.mutable_data()->set_type_url(absl::StrCat(kTypeUrlPrefix, row[9].as<std::string>()));
  e.mutable_data()->set_value(pqxx::binarystring(row[10]).str());
  e.set_cursor(EncodeCursor(stored->seq));
  return stored;
}

}  // namespace

absl::StatusOr<FeedStore::Appended> FeedStore::Append(const std::vector<const v1::Event*>& events) {
  Appended out;
  if (events.empty()) return out;
  // One statement for the batch: placeholders are numbered, the values all travel as parameters
  // (data as bytea's hex text).
  std::string sql =
      "INSERT INTO feed (event_id, source, type, subject, occurred_at, district_id, street_id, "
      "community_id, data_type, data) VALUES ";
  std::vector<std::string> params;
  params.reserve(events.size() * kColumns);
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::Event& e = *events[i];
    const int b = static_cast<int>(i) * kColumns;
    absl::StrAppend(&sql, i == 0 ? "" : ", ", "($", b + 1, "::uuid, $", b + 2, ", $", b + 3, ", $",
                    b + 4, ", from_us($", b + 5, "::bigint), $", b + 6, ", $", b + 7, ", $", b + 8,
                    ", $", b + 9, ", $", b + 10, "::bytea)");
    params.push_back(e.id());
    params.push_back(e.source());
    params.push_back(e.type());
    params.push_back(e.subject());
    params.push_back(absl::StrCat(times::UsOf(e.time())));
    params.push_back(e.org_path().district_id());
    params.push_back(e.org_path().street_id());
    params.push_back(e.org_path().community_id());
    params.push_back(std::string(absl::StripPrefix(e.data().type_url(), kTypeUrlPrefix)));
    params.push_back(absl::StrCat("\\x", absl::BytesToHexString(e.data().value())));
  }
  absl::StrAppend(&sql, " ON CONFLICT (event_id) DO NOTHING RETURNING seq");
  absl::Status s = pg::InTx(*pool_, "append events", [&](pqxx::transaction_base& tx) {
    // Held to commit: appends are serialized, so positions are handed out in commit order.
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('events.feed'))");
    pqxx::result r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
    out.appended = static_cast<int>(r.size());
    out.duplicates = static_cast<int>(events.size()) - out.appended;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  out.commit_time = absl::Now();
  return out;
}

absl::StatusOr<std::vector<EventPtr>> FeedStore::ReadAfter(int64_t after, int limit) {
  std::vector<EventPtr> out;
  absl::Status s = pool_->WithReadConnection("read feed", [&](pqxx::connection_base& conn) {
    out.clear();
    pqxx::read_transaction tx(conn);
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", kColumnList, " FROM feed WHERE seq > $1 ORDER BY seq LIMIT $2"),
        after, limit);
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(RowToEvent(row));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<FeedStore::Bounds> FeedStore::ReadBounds() {
  Bounds b;
  absl::Status s = pg::InReadTx(*pool_, "read feed bounds", [&](pqxx::transaction_base& tx) {
    pqxx::row r = tx.exec1(
        "SELECT pruned_through, GREATEST(pruned_through, (SELECT coalesce(max(seq), 0) FROM feed)) "
        "FROM feed_retention");
    b.pruned_through = r[0].as<int64_t>();
    b.head = r[1].as<int64_t>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return b;
}

absl::StatusOr<int64_t> FeedStore::Prune(absl::Time before, int limit) {
  int64_t pruned_through = 0;
  absl::Status s = pg::InTx(*pool_, "prune feed", [&](pqxx::transaction_base& tx) {
    // Oldest first, so everything at or below the new mark is gone.
    pqxx::result r = tx.exec_params(
        "WITH gone AS (DELETE FROM feed WHERE seq IN (SELECT seq FROM feed WHERE appended_at < "
        "from_us($1) ORDER BY seq LIMIT $2) RETURNING seq) "
        "UPDATE feed_retention SET pruned_through = GREATEST(pruned_through, "
        "(SELECT coalesce(max(seq), 0) FROM gone)) RETURNING pruned_through",
        times::Us(before), limit);
    pruned_through = r[0][0].as<int64_t>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return pruned_through;
}

}  // namespace civicpoints::events
