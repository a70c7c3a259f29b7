// The ledger's events (civicpoints/ledger/v1/events.proto) come from its journal: every entry is
// appended in commit order, in the transaction of the change, so the journal is the ledger's
// outbox and nothing is written twice per award. JournalLog reads the entries after a watermark
// (`event_watermark`), turns awards, deductions and reversals into points_awarded, _deducted and
// _reversed events, and raises the watermark past everything it read (holds, captures and
// releases are the redemption's business and are not announced). An event's id is derived from
// its entry, so a resend after a crash carries the same id and the feed skips it. The org path is
// the entry's, else the account's latest.
#ifndef CIVICPOINTS_SERVICES_LEDGER_JOURNAL_EVENTS_H_
#define CIVICPOINTS_SERVICES_LEDGER_JOURNAL_EVENTS_H_

#include <cstdint>
#include <string>

#include "common/events/event_relay.h"

namespace civicpoints::ledger {

class JournalLog final : public events::EventLog {
 public:
  events::PendingEvents Unpublished(pqxx::connection_base& conn, int limit) override;
  void MarkPublished(pqxx::connection_base& conn, const events::PendingEvents& batch) override;
};

// The event id of journal entry `sequence`: a UUID (version 5 layout) from a SHA-256 of it.
std::string EntryEventId(int64_t sequence);

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_JOURNAL_EVENTS_H_
