#include "services/ledger/journal_events.h"

#include <sodium.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/ledger/v1/events.pb.h"
#include "common/base/time_units.h"
#include "common/events/event_types.h"

namespace civicpoints::ledger {
namespace {

// Entry kinds as stored (EntryKind numbers).
constexpr int kAward = v1::ENTRY_KIND_AWARD;
constexpr int kDeduct = v1::ENTRY_KIND_DEDUCT;
constexpr int kReversal = v1::ENTRY_KIND_REVERSAL;

}  // namespace

std::string EntryEventId(int64_t sequence) {
  const std::string name = absl::StrCat("civicpoints/ledger/entries/", sequence);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(name.data()), name.size());
  digest[6] = (digest[6] & 0x0f) | 0x50;  // version 5 (name-based)
  digest[8] = (digest[8] & 0x3f) | 0x80;  // RFC 4122 variant
  const std::string hex =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 16));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20, 12));
}

events::PendingEvents JournalLog::Unpublished(pqxx::connection_base& conn, int limit) {
  pqxx::work tx(conn);
  pqxx::result rows = tx.exec_params(
      "SELECT e.sequence, e.kind, e.person_id, e.amount, e.available_after, e.source_kind, "
      "e.source_id, e.reversed_entry_id, (extract(epoch FROM e.created_at) * 1000000)::bigint, "
      "CASE WHEN e.community_id <> '' THEN e.district_id ELSE a.district_id END, "
      "CASE WHEN e.community_id <> '' THEN e.street_id ELSE a.street_id END, "
      "CASE WHEN e.community_id <> '' THEN e.community_id ELSE a.community_id END "
      "FROM entries e JOIN accounts a USING (person_id) "
      "WHERE e.sequence > (SELECT published_through FROM event_watermark) "
      "ORDER BY e.sequence LIMIT $1",
      limit);
  tx.commit();
  events::PendingEvents out;
  out.read = static_cast<int>(rows.size());
  const std::string source = events::EventSource("ledger");
  for (const auto& row : rows) {
    const int64_t sequence = row[0].as<int64_t>();
    out.keys = {sequence};  // the watermark goes to the last one read
    const int kind = row[1].as<int>();
    const char* name = kind == kAward      ? "points_awarded"
                       : kind == kDeduct   ? "points_deducted"
                       : kind == kReversal ? "points_reversed"
                                           : nullptr;
    if (name == nullptr) continue;
    v1::PointsPosted data;
    data.set_entry_id(absl::StrCat(sequence));
    data.set_person_id(row[2].as<std::string>());
    data.set_kind(static_cast<v1::EntryKind>(kind));
    data.set_amount(kind == kAward ? row[3].as<int64_t>() : -row[3].as<int64_t>());
    data.set_available_balance(row[4].as<int64_t>());
    data.set_source_kind(static_cast<v1::SourceKind>(row[5].as<int>()));
    data.set_source_id(row[6].as<std::string>());
    data.set_reverses_entry_id(row[7].as<std::string>());
    events::v1::Event* e = out.request.add_events();
    e->set_id(EntryEventId(sequence));
    e->set_source(source);
    e->set_type(events::EventTypeName("ledger", name));
    e->set_subject(absl::StrCat("accounts/", data.person_id()));
    times::SetTime(e->mutable_time(), row[8].as<int64_t>());
    e->mutable_org_path()->set_district_id(row[9].as<std::string>());
    e->mutable_org_path()->set_street_id(row[10].as<std::string>());
    e->mutable_org_path()->set_community_id(row[11].as<std::string>());
    e->mutable_data()->PackFrom(data);
  }
  return out;
}

void JournalLog::MarkPublished(pqxx::connection_base& conn, const events::PendingEvents& batch) {
  if (batch.keys.empty()) return;
  pqxx::work tx(conn);
  tx.exec_params("UPDATE event_watermark SET published_through = GREATEST(published_through, $1)",
                 batch.keys.back());
  tx.commit();
}

}  // namespace civicpoints::ledger
