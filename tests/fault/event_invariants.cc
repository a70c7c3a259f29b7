// Events: what every producer recorded reached the feed exactly once, whatever crashed. The feed's
// unique event ids make "twice" impossible to store; these checks look for "never": an outbox row
// still unpublished after the settle, an outbox event the feed lacks, and a journal entry the
// ledger should have announced (award, deduction, reversal) without its event. The ledger's event
// ids are derived from its entries, so on a suite started fresh the feed holds exactly as many
// ledger events as the journal holds such entries.
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/fault/invariant_checks.h"

namespace civicpoints::fault {

void CheckEvents(pqxx::transaction_base& tx, Tally& tally) {
  for (const char* schema : {"activity", "rewards"}) {
    const pqxx::row r = tx.exec1(absl::StrCat(
        "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL), "
        "count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM events.feed f WHERE f.event_id = "
        "o.event_id)), coalesce(min(o.event_id::text) FILTER (WHERE NOT EXISTS (SELECT 1 FROM "
        "events.feed f WHERE f.event_id = o.event_id)), '') FROM ",
        schema, ".outbox_events o"));
    const int64_t recorded = r[0].as<int64_t>();
    tally.Count(recorded);
    if (!tally.Holds(r[1].as<int64_t>() == 0)) {
      tally.Violation("events", absl::StrCat(r[1].as<int64_t>(), " of ", recorded, " ", schema,
                                             " events were never published"));
    }
    if (!tally.Holds(r[2].as<int64_t>() == 0)) {
      tally.Violation("events", absl::StrCat(r[2].as<int64_t>(), " ", schema,
                                             " events are missing from the feed, e.g. ",
                                             r[3].as<std::string>()));
    }
  }
  const pqxx::row ledger = tx.exec1(
      "SELECT (SELECT count(*) FROM ledger.entries WHERE ledger.entry_kind_name(kind) IN "
      "('AWARD', 'DEDUCT', 'REVERSAL')), (SELECT count(*) FROM events.feed WHERE source = "
      "'/civicpoints/ledger')");
  const int64_t entries = ledger[0].as<int64_t>();
  const int64_t announced = ledger[1].as<int64_t>();
  tally.Count(entries);
  if (!tally.Holds(entries == announced)) {
    tally.Violation("events", absl::StrCat("the journal holds ", entries,
                                           " awards, deductions and reversals; the feed announced ",
                                           announced));
  }
}

}  // namespace civicpoints::fault
