// Ledger's statements: balances, entries and their history, the journal check, a rider's period
// totals, an org node's statistics and where a node lies in the org tree.
#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/base/time_units.h"
#include "common/status/status_macros.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_support.h"
#include "services/ledger/pg_ledger_store.h"
#include "services/ledger/ranking_keys.h"

namespace civicpoints::ledger {

using support::CheckId;
using support::ColumnsFor;
using support::Invalid;
using support::kDefaultPageSize;
using support::kMaxIdLength;
using support::kMaxPageSize;
using support::NodeColumns;
using support::RequestHash;
using support::ToProto;

namespace {

constexpr int kDefaultVerifyChunk = 100000;
constexpr int kMaxVerifyChunk = 1000000;

}  // namespace

absl::StatusOr<v1::Account> Ledger::GetBalance(const std::string& person_id) {
  RETURN_IF_ERROR(CheckId(person_id, "person_id"));
  return store_->GetAccount(person_id);
}

absl::StatusOr<Ledger::OrgPlace> Ledger::PlaceOf(const common::v1::OrgScope& scope) {
  RETURN_IF_ERROR(ColumnsFor(scope).status());
  OrgPlace place;
  switch (scope.level()) {
    case common::v1::ORG_LEVEL_CITY:
      return place;
    case common::v1::ORG_LEVEL_DISTRICT:
      place.path.set_district_id(scope.org_id());
      return place;
    case common::v1::ORG_LEVEL_STREET:
      place.path.set_street_id(scope.org_id());
      break;
    default:
      place.path.set_community_id(scope.org_id());
      break;
  }
  ASSIGN_OR_RETURN(std::optional<common::v1::OrgPath> found,
                   store_->FindOrgPath(scope.level(), scope.org_id()));
  if (found.has_value()) {
    place.path = *std::move(found);
  } else {
    place.placed = false;
  }
  return place;
}

absl::StatusOr<v1::Entry> Ledger::GetEntry(const std::string& entry_id) {
  RETURN_IF_ERROR(CheckId(entry_id, "entry_id"));
  ASSIGN_OR_RETURN(std::optional<v1::Entry> entry, store_->GetEntry(entry_id));
  if (!entry.has_value())
    return absl::NotFoundError(absl::StrCat("entry ", entry_id, " does not exist"));
  return *entry;
}

absl::StatusOr<v1::ListEntriesResponse> Ledger::ListEntries(const v1::ListEntriesRequest& req) {
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  PgLedgerStore::EntryFilter f;
  f.person_id = req.person_id();
  if (req.page_size() < 0) return Invalid("page_size: must not be negative");
  f.limit = req.page_size() == 0 ? kDefaultPageSize : std::min(req.page_size(), kMaxPageSize);
  if (req.has_time_range()) {
    if (req.time_range().has_start_time()) f.start = times::TimeOf(req.time_range().start_time());
    if (req.time_range().has_end_time()) f.end = times::TimeOf(req.time_range().end_time());
    if (f.start && f.end && *f.start >= *f.end)
      return Invalid("time_range.start_time: is not before end_time");
  }
  for (int k : req.kinds()) {
    if (k == v1::ENTRY_KIND_UNSPECIFIED || !v1::EntryKind_IsValid(k))
      return Invalid("kinds: holds an unknown kind");
    f.kinds.push_back(k);
  }
  for (int k : req.source_kinds()) {
    if (k == v1::SOURCE_KIND_UNSPECIFIED || !v1::SourceKind_IsValid(k)) {
      return Invalid("source_kinds: holds an unknown kind");
    }
    f.source_kinds.push_back(k);
  }
  // The token binds the position to the filters, so a token cannot be replayed with others.
  std::string filter_tag = absl::BytesToHexString(RequestHash([&] {
                             v1::ListEntriesRequest copy = req;
                             copy.clear_page_token();
                             copy.clear_page_size();
                             return copy;
                           }()))
                               .substr(0, 8);
  if (!req.page_token().empty()) {
    std::string decoded;
    std::vector<std::string> parts;
    if (!absl::WebSafeBase64Unescape(req.page_token(), &decoded) ||
        (parts = absl::StrSplit(decoded, ':')).size() != 2 || parts[1] != filter_tag ||
        !absl::SimpleAtoi(parts[0], &f.before_sequence) || f.before_sequence <= 0) {
      return Invalid("page_token: is not valid for this request");
    }
  }
  ASSIGN_OR_RETURN(std::vector<v1::Entry> entries, store_->ListEntries(f));
  v1::ListEntriesResponse resp;
  for (v1::Entry& e : entries) *resp.add_entries() = std::move(e);
  if (static_cast<int>(entries.size()) == f.limit) {
    resp.set_next_page_token(absl::WebSafeBase64Escape(
        absl::StrCat(resp.entries(resp.entries_size() - 1).sequence(), ":", filter_tag)));
  }
  return resp;
}

absl::StatusOr<v1::VerifyJournalResponse> Ledger::VerifyJournal(
    const v1::VerifyJournalRequest& req, const std::function<bool()>& cancelled) {
  if (req.person_id().size() > kMaxIdLength)
    return Invalid("person_id: is longer than 64 characters");
  if (req.start_sequence() < 0) return Invalid("start_sequence: must not be negative");
  if (req.max_entries() < 0 || req.max_entries() > kMaxVerifyChunk) {
    return Invalid(absl::StrCat("max_entries must be 0 (", kDefaultVerifyChunk, ") to ",
                                kMaxVerifyChunk, ", got ", req.max_entries()));
  }
  // One bounded chunk per call: a nightly job walks the whole journal by next_start_sequence,
  // and no call holds a connection or a statement for longer than its chunk.
  const int chunk = req.max_entries() == 0 ? kDefaultVerifyChunk : req.max_entries();
  ASSIGN_OR_RETURN(PgLedgerStore::JournalCheck check,
                   store_->VerifyJournal(
                       req.person_id(), req.start_sequence(), chunk,
                       cancelled ? cancelled : [] { return false; }));
  v1::VerifyJournalResponse resp;
  resp.set_intact(!check.first_break.has_value());
  if (check.first_break.has_value()) *resp.mutable_first_break() = *check.first_break;
  resp.set_entries_checked(check.entries_checked);
  resp.set_accounts_checked(check.accounts_checked);
  resp.set_last_checked_sequence(check.last_checked_sequence);
  if (!check.first_break.has_value() && !check.reached_end) {
    resp.set_next_start_sequence(check.last_checked_sequence + 1);
  }
  return resp;
}

namespace {

// One bucket of a period series: its key and [start, end) in Shanghai time.
struct Bucket {
  std::string key;
  absl::Time start, end;
};

// The bucket holding `t`, and its successor's start, for a granularity.
Bucket BucketAt(v1::PeriodGranularity g, absl::Time t) {
  static const absl::TimeZone kShanghai = absl::FixedTimeZone(8 * 60 * 60);
  const absl::CivilDay day = absl::ToCivilDay(t, kShanghai);
  switch (g) {
    case v1::PERIOD_GRANULARITY_ISO_WEEK: {
      const absl::CivilDay monday = day - (static_cast<int>(absl::GetWeekday(day)) + 7) % 7;
      return {IsoWeekKey(t), absl::FromCivil(monday, kShanghai),
              absl::FromCivil(monday + 7, kShanghai)};
    }
    case v1::PERIOD_GRANULARITY_MONTH: {
      const absl::CivilMonth month(day);
      return {MonthKey(t), absl::FromCivil(month, kShanghai),
              absl::FromCivil(month + 1, kShanghai)};
    }
    default:
      return {absl::FormatCivilTime(day), absl::FromCivil(day, kShanghai),
              absl::FromCivil(day + 1, kShanghai)};
  }
}

constexpr int kMaxBuckets = 400;

}  // namespace

absl::StatusOr<v1::GetPeriodTotalsResponse> Ledger::GetPeriodTotals(
    const v1::GetPeriodTotalsRequest& req) {
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  const v1::PeriodGranularity g = req.granularity();
  std::string pg_format;
  switch (g) {
    case v1::PERIOD_GRANULARITY_DAY:
      pg_format = "YYYY-MM-DD";
      break;
    case v1::PERIOD_GRANULARITY_ISO_WEEK:
      pg_format = "IYYY-\"W\"IW";
      break;
    case v1::PERIOD_GRANULARITY_MONTH:
      pg_format = "YYYY-MM";
      break;
    default:
      return Invalid("granularity: is required (day, ISO week or month)");
  }
  // The buckets: those overlapping time_range, or the 30 up to and including the current one.
  std::vector<Bucket> buckets;
  const absl::Time now = absl::Now();
  if (req.has_time_range() &&
      (req.time_range().has_start_time() || req.time_range().has_end_time())) {
    const absl::Time end =
        req.time_range().has_end_time() ? times::TimeOf(req.time_range().end_time()) : now;
    if (!req.time_range().has_start_time()) return Invalid("time_range.start_time: is required");
    const absl::Time start = times::TimeOf(req.time_range().start_time());
    if (start >= end) return Invalid("time_range.start_time: is not before end_time");
    for (Bucket b = BucketAt(g, start); b.start < end; b = BucketAt(g, b.end)) {
      if (buckets.size() == kMaxBuckets) return Invalid("time_range spans more than 400 buckets");
      buckets.push_back(b);
    }
  } else {
    Bucket b = BucketAt(g, now);
    for (int i = 0; i < 30; ++i) {
      buckets.push_back(b);
      b = BucketAt(g, b.start - absl::Seconds(1));
    }
    std::reverse(buckets.begin(), buckets.end());
  }
  ASSIGN_OR_RETURN(auto sums, store_->SumPeriods(req.person_id(), pg_format, buckets.front().start,
                                                 buckets.back().end));
  v1::GetPeriodTotalsResponse resp;
  for (const Bucket& b : buckets) {
    v1::PeriodTotal* t = resp.add_totals();
    t->set_period_key(b.key);
    *t->mutable_start_time() = ToProto(b.start);
    *t->mutable_end_time() = ToProto(b.end);
    auto it = sums.find(b.key);
    if (it == sums.end()) continue;
    t->set_awarded(it->second.awarded);
    t->set_deducted(it->second.deducted);
    t->set_reversed(it->second.reversed);
    t->set_net_earned(it->second.awarded - it->second.deducted - it->second.reversed);
    t->set_spent(it->second.spent);
    t->set_award_count(it->second.award_count);
  }
  return resp;
}

absl::StatusOr<v1::GetOrgStatisticsResponse> Ledger::GetOrgStatistics(
    const v1::GetOrgStatisticsRequest& req) {
  static const absl::TimeZone kShanghai = absl::FixedTimeZone(8 * 60 * 60);
  ASSIGN_OR_RETURN(const NodeColumns node, ColumnsFor(req.scope()));
  absl::CivilDay end_day = absl::ToCivilDay(absl::Now(), kShanghai);
  if (!req.end_day().empty() && !absl::ParseCivilTime(req.end_day(), &end_day)) {
    return Invalid(absl::StrCat("end_day '", req.end_day(), "' is not a day like 2026-11-08"));
  }
  absl::CivilDay start_day = end_day - 29;
  if (!req.start_day().empty() && !absl::ParseCivilTime(req.start_day(), &start_day)) {
    return Invalid(absl::StrCat("start_day '", req.start_day(), "' is not a day like 2026-11-08"));
  }
  if (start_day > end_day) return Invalid("start_day: is after end_day");
  if (end_day - start_day > 366) return Invalid("end_day: is more than 366 days after start_day");

  ASSIGN_OR_RETURN(PgLedgerStore::OrgFigures figures,
                   store_->OrgStatistics(node.column, req.scope().org_id(), node.child_column,
                                         absl::FromCivil(start_day, kShanghai),
                                         absl::FromCivil(end_day + 1, kShanghai)));
  v1::GetOrgStatisticsResponse resp;
  size_t next = 0;
  for (absl::CivilDay day = start_day; day <= end_day; ++day) {
    const std::string key = absl::FormatCivilTime(day);
    PgLedgerStore::DayFigures f{key};
    if (next < figures.days.size() && figures.days[next].day == key) f = figures.days[next++];
    auto add = [&](google::protobuf::RepeatedPtrField<common::v1::DailyCount>* series, int64_t v) {
      common::v1::DailyCount* c = series->Add();
      c->set_day(key);
      c->set_value(v);
    };
    add(resp.mutable_points_issued_per_day(), f.issued);
    add(resp.mutable_points_corrected_per_day(), f.corrected);
    add(resp.mutable_points_redeemed_per_day(), f.redeemed);
  }
  auto fill = [](const PgLedgerStore::NodeFigures& f, v1::OrgNodeStatistics* out) {
    out->set_points_issued(f.issued);
    out->set_points_corrected(f.corrected);
    out->set_points_redeemed(f.redeemed);
    out->set_award_count(f.award_count);
    out->set_riders_awarded(f.riders_awarded);
    out->set_points_outstanding(f.outstanding);
  };
  *resp.mutable_total()->mutable_scope() = req.scope();
  fill(figures.total, resp.mutable_total());
  for (const PgLedgerStore::NodeFigures& child : figures.children) {
    v1::OrgNodeStatistics* c = resp.add_children();
    c->mutable_scope()->set_level(node.child_level);
    c->mutable_scope()->set_org_id(child.org_id);
    fill(child, c);
  }
  return resp;
}

}  // namespace civicpoints::ledger
