// PgLedgerStore's statements, all reads: an account, an entry and an account's entries, where an
// org node lies, a rider's period sums, an org node's figures and the journal check.
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/base/time_units.h"
#include "common/pg/pg_pool.h"
#include "services/ledger/pg_ledger_rows.h"
#include "services/ledger/pg_ledger_store.h"

namespace civicpoints::ledger {

using pg_rows::Bytes;
using pg_rows::Exec;
using pg_rows::IntArray;
using pg_rows::kEntryColumns;
using pg_rows::RowToEntry;

absl::StatusOr<v1::Account> PgLedgerStore::GetAccount(const std::string& person_id) {
  v1::Account account;
  absl::Status s = pool_->WithReadConnection("read account", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    if (std::optional<v1::Account> found = pg_rows::QueryAccount(tx, person_id)) {
      account = *std::move(found);
    } else {
      account.set_person_id(person_id);  // never posted to: all zero
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return account;
}

absl::StatusOr<std::optional<v1::Entry>> PgLedgerStore::GetEntry(const std::string& entry_id) {
  std::optional<v1::Entry> entry;
  absl::Status s = pool_->WithReadConnection("read entry", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    entry = pg_rows::QueryEntry(tx, entry_id);
    if (entry.has_value()) {
      if (std::optional<v1::Entry> reversal = pg_rows::QueryReversal(tx, entry_id)) {
        entry->set_reversed_by_entry_id(reversal->entry_id());
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return entry;
}

absl::StatusOr<std::optional<common::v1::OrgPath>> PgLedgerStore::FindOrgPath(
    common::v1::OrgLevel level, const std::string& org_id) {
  const char* sql = nullptr;
  switch (level) {
    case common::v1::ORG_LEVEL_STREET:
      sql =
          "SELECT district_id, street_id, '' AS community_id FROM accounts WHERE street_id = $1 "
          "AND street_id <> '' LIMIT 1";
      break;
    case common::v1::ORG_LEVEL_COMMUNITY:
      sql =
          "SELECT district_id, street_id, community_id FROM accounts WHERE community_id = $1 AND "
          "community_id <> '' LIMIT 1";
      break;
    default:
      return absl::InvalidArgumentError(
          "scope.level: only a street's or a community's path is looked up");
  }
  std::optional<common::v1::OrgPath> path;
  absl::Status s = pool_->WithReadConnection("find org path", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = Exec(tx, sql, org_id);
    if (!r.empty()) {
      path.emplace();
      path->set_district_id(r[0]["district_id"].as<std::string>());
      path->set_street_id(r[0]["street_id"].as<std::string>());
      path->set_community_id(r[0]["community_id"].as<std::string>());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return path;
}

absl::StatusOr<std::vector<v1::Entry>> PgLedgerStore::ListEntries(const EntryFilter& f) {
  std::vector<v1::Entry> entries;
  absl::Status s = pool_->WithReadConnection("list entries", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    pqxx::result r = Exec(
        tx,
        absl::StrCat(
            "SELECT ", kEntryColumns,
            ", (SELECT rv.sequence::text FROM entries rv WHERE rv.kind = entry_kind('REVERSAL') "
            "   AND rv.reversed_entry_id = e.sequence::text) AS reversed_by "
            "FROM entries e WHERE e.person_id = $1 "
            "AND ($2::bigint = 0 OR e.sequence < $2::bigint) "
            "AND ($3::bigint = 0 OR e.created_at >= to_timestamp($3::bigint / 1000000.0)) "
            "AND ($4::bigint = 0 OR e.created_at < to_timestamp($4::bigint / 1000000.0)) "
            "AND (cardinality($5::int[]) = 0 OR e.kind = ANY($5::int[])) "
            "AND (cardinality($6::int[]) = 0 OR e.source_kind = ANY($6::int[])) "
            "ORDER BY e.account_sequence DESC LIMIT $7"),
        f.person_id, f.before_sequence, f.start ? times::Us(*f.start) : int64_t{0},
        f.end ? times::Us(*f.end) : int64_t{0}, IntArray(f.kinds), IntArray(f.source_kinds),
        f.limit);
    for (const auto& row : r) {
      v1::Entry e = RowToEntry(row);
      if (!row["reversed_by"].is_null()) e.set_reversed_by_entry_id(row["reversed_by"].c_str());
      entries.push_back(std::move(e));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return entries;
}

absl::StatusOr<PgLedgerStore::OrgFigures> PgLedgerStore::OrgStatistics(
    const std::string& column, const std::string& org_id, const std::string& child_column,
    absl::Time start, absl::Time end) {
  // Awards and corrections count when the thing happened, captures when the gift was handed out;
  // days are Shanghai days (UTC+8, no daylight saving).
  const std::string postings = absl::StrCat(
      "WITH p AS (SELECT kind, amount, person_id, ", child_column.empty() ? "''" : child_column,
      " AS child, CASE WHEN kind IN (entry_kind('AWARD'), entry_kind('DEDUCT'), "
      "entry_kind('REVERSAL')) THEN occur_time ELSE created_at END AS t "
      "FROM entries WHERE kind IN (entry_kind('AWARD'), entry_kind('DEDUCT'), "
      "entry_kind('CAPTURE'), entry_kind('REVERSAL')) AND ",
      // The city names no node, but every query passes $1, which must appear to have a type.
      column.empty() ? "$1::text IS NOT NULL" : column + " = $1",
      "), r AS (SELECT * FROM p WHERE t >= to_timestamp($2::bigint / 1000000.0) "
      "AND t < to_timestamp($3::bigint / 1000000.0)) ");
  constexpr char kSums[] =
      "coalesce(sum(amount) FILTER (WHERE kind = entry_kind('AWARD')), 0) AS issued, "
      "coalesce(sum(amount) FILTER (WHERE kind IN (entry_kind('DEDUCT'), entry_kind('REVERSAL'))), "
      "0) AS corrected, "
      "coalesce(sum(amount) FILTER (WHERE kind = entry_kind('CAPTURE')), 0) AS redeemed, "
      "count(*) FILTER (WHERE kind = entry_kind('AWARD')) AS award_count, "
      "count(DISTINCT person_id) FILTER (WHERE kind = entry_kind('AWARD')) AS riders_awarded";
  OrgFigures out;
  absl::Status s = pool_->WithReadConnection("org statistics", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    const int64_t from = times::Us(start), to = times::Us(end);
    for (const auto& row :
         Exec(tx,
              postings + "SELECT to_char(t AT TIME ZONE INTERVAL '+08:00', 'YYYY-MM-DD') AS day, " +
                  kSums + " FROM r GROUP BY 1 ORDER BY 1",
              org_id, from, to)) {
      out.days.push_back({row["day"].c_str(), row["issued"].as<int64_t>(),
                          row["corrected"].as<int64_t>(), row["redeemed"].as<int64_t>()});
    }
    auto node = [](const pqxx::row& row) {
      return NodeFigures{row["org_id"].c_str(),
                         row["issued"].as<int64_t>(),
                         row["corrected"].as<int64_t>(),
                         row["redeemed"].as<int64_t>(),
                         row["award_count"].as<int64_t>(),
                         row["riders_awarded"].as<int64_t>()};
    };
    out.total = node(Exec(tx, postings + "SELECT $1::text AS org_id, " + kSums + " FROM r", org_id,
                          from, to)[0]);
    if (!child_column.empty()) {
      for (const auto& row : Exec(tx,
                                  postings + "SELECT child AS org_id, " + kSums +
                                      " FROM r WHERE child <> '' GROUP BY child ORDER BY 2 DESC, 1",
                                  org_id, from, to)) {
        out.children.push_back(node(row));
      }
    }
    // What riders hold now, each at the node of their latest award (the account's path).
    std::map<std::string, int64_t> outstanding;
    for (const auto& row :
         Exec(tx,
              absl::StrCat("SELECT ", child_column.empty() ? "''" : child_column,
                           " AS child, coalesce(sum(available + held), 0) AS points FROM accounts "
                           "WHERE ",
                           column.empty() ? "$1::text IS NOT NULL" : column + " = $1",
                           " GROUP BY 1 ORDER BY 1"),
              org_id)) {
      const int64_t points = row["points"].as<int64_t>();
      out.total.outstanding += points;
      if (!child_column.empty() && row["child"].size() > 0)
        outstanding[row["child"].c_str()] = points;
    }
    for (NodeFigures& child : out.children) {
      const auto found = outstanding.find(child.org_id);
      if (found == outstanding.end()) continue;
      child.outstanding = found->second;
      outstanding.erase(found);
    }
    for (const auto& [org, points] : outstanding) {
      NodeFigures only_held{org};
      only_held.outstanding = points;
      out.children.push_back(std::move(only_held));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::map<std::string, PgLedgerStore::PeriodSums>> PgLedgerStore::SumPeriods(
    const std::string& person_id, const std::string& pg_format, absl::Time start, absl::Time end) {
  std::map<std::string, PeriodSums> out;
  absl::Status s = pool_->WithReadConnection("sum periods", [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    for (const auto& row :
         Exec(tx,
              "WITH p AS (SELECT kind, amount, CASE WHEN kind IN (entry_kind('AWARD'), "
              "entry_kind('DEDUCT'), entry_kind('REVERSAL')) THEN occur_time "
              "  ELSE created_at END AS t FROM entries WHERE person_id = $1) "
              "SELECT to_char(t AT TIME ZONE INTERVAL '+08:00', $2) AS bucket, "
              "coalesce(sum(amount) FILTER (WHERE kind = entry_kind('AWARD')), 0) AS awarded, "
              "coalesce(sum(amount) FILTER (WHERE kind = entry_kind('DEDUCT')), 0) AS deducted, "
              "coalesce(sum(amount) FILTER (WHERE kind = entry_kind('REVERSAL')), 0) AS reversed, "
              "coalesce(sum(amount) FILTER (WHERE kind = entry_kind('CAPTURE')), 0) AS spent, "
              "count(*) FILTER (WHERE kind = entry_kind('AWARD')) AS award_count "
              "FROM p WHERE t >= to_timestamp($3::bigint / 1000000.0) "
              "AND t < to_timestamp($4::bigint / 1000000.0) GROUP BY 1",
              person_id, pg_format, times::Us(start), times::Us(end))) {
      out[row["bucket"].c_str()] = {row["awarded"].as<int64_t>(), row["deducted"].as<int64_t>(),
                                    row["reversed"].as<int64_t>(), row["spent"].as<int64_t>(),
                                    row["award_count"].as<int64_t>()};
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<PgLedgerStore::JournalCheck> PgLedgerStore::VerifyJournal(
    const std::string& person_id, int64_t start_sequence, int max_entries,
    const std::function<bool()>& cancelled) {
  JournalCheck check;
  absl::Status s = pool_->WithReadConnection("verify journal", [&](pqxx::connection_base& c) {
    check = JournalCheck();
    pqxx::read_transaction tx(c);
    // In ledger-wide order, each entry with its account's previous entry's hash (by the unique
    // (person_id, account_sequence) index) and whether it is the account's last one.
    pqxx::result rows = Exec(
        tx,
        "SELECT e.sequence, e.person_id, e.account_sequence, e.prev_hash, e.hash, "
        "entry_hash(e) AS recomputed_hash, p.hash AS previous_entry_hash, a.available, a.held, "
        "a.entry_count, a.head_hash, "
        "NOT EXISTS (SELECT 1 FROM entries n WHERE n.person_id = e.person_id "
        "            AND n.account_sequence = e.account_sequence + 1) AS last_of_account "
        "FROM entries e JOIN accounts a ON a.person_id = e.person_id "
        "LEFT JOIN entries p ON p.person_id = e.person_id "
        "  AND p.account_sequence = e.account_sequence - 1 "
        "WHERE e.sequence >= $1 AND ($2 = '' OR e.person_id = $2) "
        "ORDER BY e.sequence LIMIT $3",
        start_sequence, person_id, max_entries);
    std::set<std::string> accounts;
    for (const auto& row : rows) {
      if (check.entries_checked % 1000 == 0 && cancelled()) {
        return absl::CancelledError("the journal check was cancelled by its caller");
      }
      ++check.entries_checked;
      const std::string person = row["person_id"].c_str();
      accounts.insert(person);
      const int64_t account_seq = row["account_sequence"].as<int64_t>();
      check.last_checked_sequence = row["sequence"].as<int64_t>();
      v1::JournalBreak b;
      b.set_person_id(person);
      b.set_entry_id(row["sequence"].c_str());
      b.set_sequence(row["sequence"].as<int64_t>());
      b.set_account_sequence(account_seq);
      const std::string stored_prev = Bytes(row["prev_hash"]), stored = Bytes(row["hash"]),
                        recomputed = Bytes(row["recomputed_hash"]);
      const pqxx::field previous = row["previous_entry_hash"];
      const std::string prev = account_seq == 1     ? std::string(32, '\0')
                               : previous.is_null() ? std::string()
                                                    : Bytes(previous);
      if (account_seq > 1 && previous.is_null()) {
        b.set_kind(v1::JOURNAL_BREAK_KIND_SEQUENCE_GAP);
        b.set_expected(absl::StrCat(account_seq - 1));
        b.set_found("none");
        b.set_detail(absl::StrCat("account ", person, " has entry ", account_seq, " but not entry ",
                                  account_seq - 1));
      } else if (stored_prev != prev) {
        b.set_kind(v1::JOURNAL_BREAK_KIND_PREV_HASH_MISMATCH);
        b.set_expected(absl::BytesToHexString(prev));
        b.set_found(absl::BytesToHexString(stored_prev));
        b.set_detail(absl::StrCat("entry ", row["sequence"].c_str(),
                                  " does not chain to the account's previous entry"));
      } else if (stored != recomputed) {
        b.set_kind(v1::JOURNAL_BREAK_KIND_HASH_MISMATCH);
        b.set_expected(absl::BytesToHexString(recomputed));
        b.set_found(absl::BytesToHexString(stored));
        b.set_detail(
            absl::StrCat("entry ", row["sequence"].c_str(), " was changed after it was written"));
      } else if (row["last_of_account"].as<bool>()) {
        // The account's last entry: the account must agree with its whole journal.
        const pqxx::row sums = Exec(tx,
                                    "SELECT coalesce(sum(available_delta), 0) AS available, "
                                    "coalesce(sum(held_delta), 0) AS held, count(*) AS entries "
                                    "FROM entries "
                                    "WHERE person_id = $1",
                                    person)[0];
        if (sums["available"].as<int64_t>() != row["available"].as<int64_t>() ||
            sums["held"].as<int64_t>() != row["held"].as<int64_t>() ||
            account_seq != row["entry_count"].as<int64_t>() ||
            sums["entries"].as<int64_t>() != account_seq || Bytes(row["head_hash"]) != stored) {
          b.set_kind(v1::JOURNAL_BREAK_KIND_ACCOUNT_MISMATCH);
          b.set_expected(
              absl::StrCat(sums["available"].c_str(), "/", sums["held"].c_str(), "/", account_seq));
          b.set_found(absl::StrCat(row["available"].c_str(), "/", row["held"].c_str(), "/",
                                   row["entry_count"].c_str()));
          b.set_detail(absl::StrCat(
              "account ", person, " balances (available/held/entries) disagree with its journal"));
        }
      }
      if (b.kind() != v1::JOURNAL_BREAK_KIND_UNSPECIFIED) {
        check.first_break = b;
        break;
      }
    }
    check.accounts_checked = static_cast<int64_t>(accounts.size());
    check.reached_end = static_cast<int>(rows.size()) < max_entries;
    // At the end, an account that claims entries but has none is a break too.
    if (!check.first_break && check.reached_end) {
      pqxx::result empty = Exec(tx,
                                "SELECT person_id, entry_count FROM accounts a "
                                "WHERE entry_count > 0 AND ($1 = '' OR person_id = $1) "
                                "AND NOT EXISTS (SELECT 1 FROM entries e "
                                "                WHERE e.person_id = a.person_id) LIMIT 1",
                                person_id);
      if (!empty.empty()) {
        v1::JournalBreak b;
        b.set_kind(v1::JOURNAL_BREAK_KIND_ACCOUNT_MISMATCH);
        b.set_person_id(empty[0]["person_id"].c_str());
        b.set_expected("0/0/0");
        b.set_found(absl::StrCat("?/?/", empty[0]["entry_count"].c_str()));
        b.set_detail(absl::StrCat("account ", empty[0]["person_id"].c_str(),
                                  " counts entries its journal does not have"));
        check.first_break = b;
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return check;
}

}  // namespace civicpoints::ledger
