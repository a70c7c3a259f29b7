// Ledger's postings: Award, BulkAward, Deduct and Reverse.
#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "civicpoints/ledger/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/ledger/award_set.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_support.h"
#include "services/ledger/pg_ledger_store.h"
#include "services/ledger/ranking_keys.h"

namespace civicpoints::ledger {

namespace gp = ::google::protobuf;
using support::CheckAmount;
using support::CheckFullPath;
using support::CheckId;
using support::CheckReason;
using support::Invalid;
using support::kMaxIdLength;
using support::RequestHash;
using support::SequenceOf;

namespace {

constexpr size_t kMaxSourceIdLength = 128;

absl::StatusOr<absl::Time> OccurTime(const gp::Timestamp& ts, bool set, absl::Time now) {
  if (!set) return now;
  // The range google.protobuf.Timestamp allows: years 0001 to 9999.
  if (ts.seconds() < -62135596800 || ts.seconds() > 253402300799 || ts.nanos() < 0 ||
      ts.nanos() > 999999999) {
    return Invalid("occur_time: is not a valid timestamp");
  }
  const absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  if (t > now + absl::Minutes(5)) return Invalid("occur_time: is in the future");
  if (t < now - absl::Hours(24 * 400)) return Invalid("occur_time: is more than 400 days ago");
  return t;
}

absl::Status CheckAwardSource(v1::SourceKind kind, const std::string& source_id,
                              const std::string& verified_by, const std::string& rule) {
  if (kind == v1::SOURCE_KIND_UNSPECIFIED || !v1::SourceKind_IsValid(kind)) {
    return Invalid("source_kind: is required");
  }
  if (kind == v1::SOURCE_KIND_REDEMPTION) {
    return Invalid("source_kind: REDEMPTION is for holds, not awards");
  }
  if (kind != v1::SOURCE_KIND_CORRECTION) {
    if (source_id.empty()) return Invalid("source_id: is required for this source_kind");
    if (verified_by.empty())
      return Invalid("verified_by_person_id: is required for this source_kind");
    if (rule.empty()) return Invalid("points_rule_id: is required for this source_kind");
  }
  if (source_id.size() > kMaxSourceIdLength)
    return Invalid("source_id: is longer than 128 characters");
  if (verified_by.size() > kMaxIdLength)
    return Invalid("verified_by_person_id: is longer than 64 characters");
  if (rule.size() > kMaxIdLength) return Invalid("points_rule_id: is longer than 64 characters");
  return absl::OkStatus();
}

// The posting of an award: available and earned both rise by the amount. `source` is an
// AwardRequest or a BulkAwardRequest, which carry the same source fields.
template <typename Source>
Posting AwardPosting(const Source& source, const std::string& person_id, int64_t amount,
                     const common::v1::OrgPath& path, const std::string& actor, absl::Time occur) {
  return Posting{.person_id = person_id,
                 .open_account = true,
                 .kind = v1::ENTRY_KIND_AWARD,
                 .amount = amount,
                 .available_delta = amount,
                 .earned_delta = amount,
                 .source_kind = source.source_kind(),
                 .source_id = source.source_id(),
                 .points_rule_id = source.points_rule_id(),
                 .verified_by = source.verified_by_person_id(),
                 .org_path = path,
                 .reason = source.reason(),
                 .actor_id = actor,
                 .occur_time = occur};
}

// A unique violation from a row another transaction committed first: the unit is re-run, and then

}  // namespace

absl::StatusOr<v1::AwardResponse> Ledger::Award(const v1::AwardRequest& req,
                                                const std::string& actor) {
  const absl::Time now = absl::Now();
  RETURN_IF_ERROR(text::CheckIdempotencyKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckAmount(req.amount()));
  RETURN_IF_ERROR(CheckAwardSource(req.source_kind(), req.source_id(), req.verified_by_person_id(),
                                   req.points_rule_id()));
  RETURN_IF_ERROR(CheckFullPath(req.org_path(), "org_path"));
  RETURN_IF_ERROR(CheckReason(req.reason(), false));
  ASSIGN_OR_RETURN(absl::Time occur, OccurTime(req.occur_time(), req.has_occur_time(), now));

  v1::AwardResponse response;
  AwardItem item;
  item.postings.push_back(
      AwardPosting(req, req.person_id(), req.amount(), req.org_path(), actor, occur));
  RETURN_IF_ERROR(Mutate(
      actor, "Award", req.idempotency_key(), req, req.person_id(), &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, int64_t* ranked) {
        auto* resp = static_cast<v1::AwardResponse*>(out);
        const Posting p =
            AwardPosting(req, req.person_id(), req.amount(), req.org_path(), actor, occur);
        ASSIGN_OR_RETURN(PgLedgerStore::AwardResult posted, store_->PostAward(tx, p));
        // Checked under the account lock, so a concurrent award for the same source under
        // another key is seen once it commits; refusing rolls this one back.
        if (!posted.duplicate_of.empty()) {
          return absl::AlreadyExistsError(
              absl::StrCat("rider ", req.person_id(), " already has award ", posted.duplicate_of,
                           " for this source (", v1::SourceKind_Name(req.source_kind()), " ",
                           req.source_id(), ")"));
        }
        *ranked = SequenceOf(posted.entry);
        *resp->mutable_entry() = std::move(posted.entry);
        *resp->mutable_account() = std::move(posted.account);
        return absl::OkStatus();
      },
      &item));
  return response;
}

absl::StatusOr<v1::BulkAwardResponse> Ledger::BulkAward(const v1::BulkAwardRequest& req,
                                                        const std::string& actor) {
  const absl::Time now = absl::Now();
  RETURN_IF_ERROR(text::CheckIdempotencyKey(req.idempotency_key()));
  if (req.items().empty()) return Invalid("items: is empty");
  if (req.items_size() > kMaxBulkItems) return Invalid("items: has more than 1000 items");
  RETURN_IF_ERROR(CheckAwardSource(req.source_kind(), req.source_id(), req.verified_by_person_id(),
                                   req.points_rule_id()));
  RETURN_IF_ERROR(CheckReason(req.reason(), false));
  ASSIGN_OR_RETURN(absl::Time occur, OccurTime(req.occur_time(), req.has_occur_time(), now));
  std::set<std::string> seen;
  for (int i = 0; i < req.items_size(); ++i) {
    const v1::BulkAwardItem& item = req.items(i);
    const std::string where = absl::StrCat("items[", i, "]");
    RETURN_IF_ERROR(CheckId(item.person_id(), where + ".person_id"));
    RETURN_IF_ERROR(CheckAmount(item.amount(), where + ".amount"));
    RETURN_IF_ERROR(CheckFullPath(item.org_path(), where + ".org_path"));
    if (!seen.insert(item.person_id()).second) {
      return Invalid(absl::StrCat(where, ".person_id: ", item.person_id(), " repeats"));
    }
  }
  const std::string bulk_id = "bulk-" + absl::BytesToHexString(RequestHash(req)).substr(0, 24);

  v1::BulkAwardResponse response;
  AwardItem item;
  item.bulk = true;
  item.bulk_award_id = bulk_id;
  std::vector<const v1::BulkAwardItem*> by_person;
  for (const v1::BulkAwardItem& award : req.items()) by_person.push_back(&award);
  std::sort(by_person.begin(), by_person.end(),
            [](const auto* a, const auto* b) { return a->person_id() < b->person_id(); });
  for (const v1::BulkAwardItem* award : by_person) {
    Posting p =
        AwardPosting(req, award->person_id(), award->amount(), award->org_path(), actor, occur);
    p.bulk_award_id = bulk_id;
    item.postings.push_back(std::move(p));
  }
  RETURN_IF_ERROR(Mutate(
      actor, "BulkAward", req.idempotency_key(), req, *seen.begin(), &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, int64_t* ranked) {
        auto* resp = static_cast<v1::BulkAwardResponse*>(out);
        resp->set_bulk_award_id(bulk_id);
        std::vector<std::string> duplicates;
        std::vector<const v1::BulkAwardItem*> items;
        for (const v1::BulkAwardItem& item : req.items()) items.push_back(&item);
        // Lock accounts in person order, as other units do, to keep deadlocks rare.
        std::sort(items.begin(), items.end(),
                  [](const auto* a, const auto* b) { return a->person_id() < b->person_id(); });
        for (const v1::BulkAwardItem* item_ptr : items) {
          const v1::BulkAwardItem& item = *item_ptr;
          Posting p =
              AwardPosting(req, item.person_id(), item.amount(), item.org_path(), actor, occur);
          p.bulk_award_id = bulk_id;
          ASSIGN_OR_RETURN(PgLedgerStore::AwardResult posted, store_->PostAward(tx, p));
          if (!posted.duplicate_of.empty()) duplicates.push_back(item.person_id());
          *ranked = std::max(*ranked, SequenceOf(posted.entry));
          *resp->add_entries() = std::move(posted.entry);
          *resp->add_accounts() = std::move(posted.account);
        }
        if (!duplicates.empty()) {
          return absl::AlreadyExistsError(
              absl::StrCat("already awarded for this source: ", absl::StrJoin(duplicates, ", ")));
        }
        return absl::OkStatus();
      },
      &item));
  return response;
}

absl::StatusOr<v1::DeductResponse> Ledger::Deduct(const v1::DeductRequest& req,
                                                  const std::string& actor) {
  RETURN_IF_ERROR(text::CheckIdempotencyKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckAmount(req.amount()));
  RETURN_IF_ERROR(CheckReason(req.reason(), true));
  if (req.related_entry_id().size() > kMaxIdLength) {
    return Invalid("related_entry_id: is longer than 64 characters");
  }
  v1::DeductResponse response;
  RETURN_IF_ERROR(Mutate(
      actor, "Deduct", req.idempotency_key(), req, req.person_id(), &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, int64_t* ranked) {
        auto* resp = static_cast<v1::DeductResponse*>(out);
        if (!req.related_entry_id().empty()) {
          ASSIGN_OR_RETURN(std::optional<v1::Entry> related,
                           store_->LoadEntry(tx, req.related_entry_id()));
          if (!related.has_value() || related->person_id() != req.person_id()) {
            return absl::NotFoundError(absl::StrCat("related_entry_id ", req.related_entry_id(),
                                                    " names no entry of ", req.person_id()));
          }
        }
        // A deduction counts in the rankings of the rider's place at the time: the entry keeps it.
        ASSIGN_OR_RETURN(std::optional<v1::Account> before,
                         store_->LoadAccountTx(tx, req.person_id()));
        Posting p{.person_id = req.person_id(),
                  .kind = v1::ENTRY_KIND_DEDUCT,
                  .amount = req.amount(),
                  .available_delta = -req.amount(),
                  .earned_delta = -req.amount(),
                  .source_kind = v1::SOURCE_KIND_CORRECTION,
                  .source_id = req.related_entry_id(),
                  .org_path = before.has_value() ? before->org_path() : common::v1::OrgPath(),
                  .reason = req.reason(),
                  .actor_id = actor};
        ASSIGN_OR_RETURN(v1::Entry entry, store_->Post(tx, p));
        ASSIGN_OR_RETURN(std::optional<v1::Account> account,
                         store_->LoadAccountTx(tx, req.person_id()));
        *ranked = SequenceOf(entry);
        *resp->mutable_entry() = entry;
        *resp->mutable_account() = *account;
        return absl::OkStatus();
      }));
  return response;
}

absl::StatusOr<v1::ReverseResponse> Ledger::Reverse(const v1::ReverseRequest& req,
                                                    const std::string& actor) {
  RETURN_IF_ERROR(text::CheckIdempotencyKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.entry_id(), "entry_id"));
  RETURN_IF_ERROR(CheckReason(req.reason(), true));
  v1::ReverseResponse response;
  std::string order_key = req.entry_id();
  if (absl::StatusOr<std::optional<v1::Entry>> e = store_->GetEntry(req.entry_id()); e.ok() && *e) {
    order_key = (*e)->person_id();
  }
  RETURN_IF_ERROR(Mutate(
      actor, "Reverse", req.idempotency_key(), req, order_key, &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, int64_t* ranked) {
        auto* resp = static_cast<v1::ReverseResponse*>(out);
        ASSIGN_OR_RETURN(std::optional<v1::Entry> award, store_->LoadEntry(tx, req.entry_id()));
        if (!award.has_value()) {
          return absl::NotFoundError(absl::StrCat("entry ", req.entry_id(), " does not exist"));
        }
        if (award->kind() != v1::ENTRY_KIND_AWARD) {
          return Refuse(
              absl::StatusCode::kFailedPrecondition, v1::LEDGER_ERROR_REASON_NOT_AN_AWARD,
              absl::StrCat("entry ", req.entry_id(), " is ", v1::EntryKind_Name(award->kind()),
                           "; only awards can be reversed"));
        }
        ASSIGN_OR_RETURN(std::optional<v1::Entry> prior, store_->FindReversal(tx, req.entry_id()));
        if (prior.has_value()) {
          return Refuse(absl::StatusCode::kFailedPrecondition,
                        v1::LEDGER_ERROR_REASON_ALREADY_REVERSED,
                        absl::StrCat("award ", req.entry_id(), " was already reversed by entry ",
                                     prior->entry_id()));
        }
        Posting p{.person_id = award->person_id(),
                  .kind = v1::ENTRY_KIND_REVERSAL,
                  .amount = award->amount(),
                  .available_delta = -award->amount(),
                  .earned_delta = -award->amount(),
                  .source_kind = award->source_kind(),
                  .source_id = award->source_id(),
                  .points_rule_id = award->points_rule_id(),
                  .verified_by = award->verified_by_person_id(),
                  .org_path = award->org_path(),
                  .reason = req.reason(),
                  .actor_id = actor,
                  .reversed_entry_id = award->entry_id()};
        absl::StatusOr<v1::Entry> entry = store_->Post(tx, p);
        if (!entry.ok()) {
          if (entry.status().code() == absl::StatusCode::kFailedPrecondition &&
              !PgLedgerStore::IsDatabaseFailure(entry.status())) {
            return Refuse(
                absl::StatusCode::kFailedPrecondition, v1::LEDGER_ERROR_REASON_INSUFFICIENT_POINTS,
                absl::StrCat("cannot reverse award ", req.entry_id(), ": ",
                             entry.status().message(),
                             " (the rider already spent it; deduct what is left instead)"));
          }
          return entry.status();
        }
        // The reversal counts against the periods the award counted in (ranking_changes).
        *ranked = SequenceOf(*entry);
        *resp->mutable_entry() = *entry;
        *resp->mutable_reversed_entry() = *award;
        resp->mutable_reversed_entry()->set_reversed_by_entry_id(entry->entry_id());
        ASSIGN_OR_RETURN(std::optional<v1::Account> account,
                         store_->LoadAccountTx(tx, award->person_id()));
        *resp->mutable_account() = *account;
        return absl::OkStatus();
      }));
  return response;
}

}  // namespace civicpoints::ledger
