#include "services/ledger/ledger.h"

#include <google/protobuf/util/time_util.h>
#include <sodium.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "services/ledger/group_committer.h"
#include "services/ledger/pg_ledger_store.h"
#include "services/ledger/ranking_keys.h"

namespace civicpoints::ledger {
namespace {

namespace gp = ::google::protobuf;
using gp::util::TimeUtil;

constexpr size_t kMaxKeyLength = 128;
constexpr size_t kMaxIdLength = 64;
constexpr int kDefaultVerifyChunk = 100000;
constexpr int kMaxVerifyChunk = 1000000;
constexpr size_t kMaxSourceIdLength = 128;
constexpr size_t kMaxReasonChars = 500;
constexpr int kDefaultPageSize = 20;
constexpr int kMaxPageSize = 100;
constexpr int kMaxTopN = 1000;

absl::Status Invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

absl::Status CheckKey(const std::string& key) {
  if (key.empty()) return Invalid("idempotency_key is required");
  if (key.size() > kMaxKeyLength) return Invalid("idempotency_key is longer than 128 characters");
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return Invalid("idempotency_key must be printable ASCII");
  }
  return absl::OkStatus();
}

absl::Status CheckId(const std::string& id, absl::string_view field) {
  if (id.empty()) return Invalid(absl::StrCat(field, " is required"));
  if (id.size() > kMaxIdLength)
    return Invalid(absl::StrCat(field, " is longer than 64 characters"));
  return absl::OkStatus();
}

absl::Status CheckAmount(int64_t amount, absl::string_view field = "amount") {
  if (amount < 1 || amount > kMaxAmount) {
    return Invalid(absl::StrCat(field, " must be 1-1000000 points, got ", amount));
  }
  return absl::OkStatus();
}

absl::Status CheckReason(const std::string& reason, bool required) {
  if (required && reason.empty()) return Invalid("reason is required");
  if (Utf8Length(reason) > kMaxReasonChars) return Invalid("reason is longer than 500 characters");
  return absl::OkStatus();
}

absl::Status CheckFullPath(const common::v1::OrgPath& path, absl::string_view field) {
  if (path.district_id().empty() || path.street_id().empty() || path.community_id().empty()) {
    return Invalid(absl::StrCat(field, " must name the district, street and community"));
  }
  if (path.district_id().size() > kMaxIdLength || path.street_id().size() > kMaxIdLength ||
      path.community_id().size() > kMaxIdLength) {
    return Invalid(absl::StrCat(field, " ids must be at most 64 characters"));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> OccurTime(const gp::Timestamp& ts, bool set, absl::Time now) {
  if (!set) return now;
  // The range google.protobuf.Timestamp allows: years 0001 to 9999.
  if (ts.seconds() < -62135596800 || ts.seconds() > 253402300799 || ts.nanos() < 0 ||
      ts.nanos() > 999999999) {
    return Invalid("occur_time is not a valid timestamp");
  }
  const absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  if (t > now + absl::Minutes(5)) return Invalid("occur_time is in the future");
  if (t < now - absl::Hours(24 * 400)) return Invalid("occur_time is more than 400 days ago");
  return t;
}

absl::Status CheckAwardSource(v1::SourceKind kind, const std::string& source_id,
                              const std::string& verified_by, const std::string& rule) {
  if (kind == v1::SOURCE_KIND_UNSPECIFIED || !v1::SourceKind_IsValid(kind)) {
    return Invalid("source_kind is required");
  }
  if (kind == v1::SOURCE_KIND_REDEMPTION) {
    return Invalid("source_kind REDEMPTION is for holds, not awards");
  }
  if (kind != v1::SOURCE_KIND_CORRECTION) {
    if (source_id.empty()) return Invalid("source_id is required for this source_kind");
    if (verified_by.empty())
      return Invalid("verified_by_person_id is required for this source_kind");
    if (rule.empty()) return Invalid("points_rule_id is required for this source_kind");
  }
  if (source_id.size() > kMaxSourceIdLength)
    return Invalid("source_id is longer than 128 characters");
  if (verified_by.size() > kMaxIdLength)
    return Invalid("verified_by_person_id is longer than 64 characters");
  if (rule.size() > kMaxIdLength) return Invalid("points_rule_id is longer than 64 characters");
  return absl::OkStatus();
}

// SHA-256 of the request without its idempotency key, in deterministic wire form.
std::string RequestHash(const gp::Message& request) {
  std::unique_ptr<gp::Message> copy(request.New());
  copy->CopyFrom(request);
  if (const gp::FieldDescriptor* f = copy->GetDescriptor()->FindFieldByName("idempotency_key")) {
    copy->GetReflection()->ClearField(copy.get(), f);
  }
  std::string bytes;
  {
    gp::io::StringOutputStream out(&bytes);
    gp::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

// A snapshot's id from its request, its caller and its key: two callers' snapshots under one key
// are two snapshots (keys belong to their caller), so their ids must differ too.
std::string SnapshotId(const gp::Message& request, const std::string& caller,
                       const std::string& key) {
  const std::string owner = absl::StrCat(caller.size(), ":", caller, key);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(owner.data()), owner.size());
  return absl::StrCat(
      "snap-", absl::BytesToHexString(RequestHash(request)).substr(0, 12), "-",
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 6)));
}

absl::Time ToTime(const gp::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

gp::Timestamp ToProto(absl::Time t) {
  gp::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(t);
  ts.set_seconds(micros / 1000000);
  ts.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return ts;
}

// The columns of the journal's org path that name a node of a scope's level and its children.
struct NodeColumns {
  std::string column;        // "" for the city
  std::string child_column;  // "" for a community
  common::v1::OrgLevel child_level = common::v1::ORG_LEVEL_UNSPECIFIED;
};

// Errors: INVALID_ARGUMENT for a missing level, or a missing org id below the city.
absl::StatusOr<NodeColumns> ColumnsFor(const common::v1::OrgScope& scope) {
  NodeColumns n;
  switch (scope.level()) {
    case common::v1::ORG_LEVEL_CITY:
      n = {"", "district_id", common::v1::ORG_LEVEL_DISTRICT};
      break;
    case common::v1::ORG_LEVEL_DISTRICT:
      n = {"district_id", "street_id", common::v1::ORG_LEVEL_STREET};
      break;
    case common::v1::ORG_LEVEL_STREET:
      n = {"street_id", "community_id", common::v1::ORG_LEVEL_COMMUNITY};
      break;
    case common::v1::ORG_LEVEL_COMMUNITY:
      n = {"community_id", "", common::v1::ORG_LEVEL_UNSPECIFIED};
      break;
    default:
      return Invalid("scope.level is required (city, district, street or community)");
  }
  if (!n.column.empty()) RETURN_IF_ERROR(CheckId(scope.org_id(), "scope.org_id"));
  return n;
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
// sees that row (a replay, or a precise refusal).
template <typename F>
absl::Status RetryOnUniqueViolation(F&& f) {
  try {
    f();
  } catch (const pqxx::unique_violation&) {
    return absl::AbortedError("a concurrent request changed the same record; retrying");
  }
  return absl::OkStatus();
}

}  // namespace

Ledger::Ledger(PgLedgerStore* store, GroupCommitter* committer, Rankings* rankings,
               absl::Duration top_ranking_cache_ttl)
    : store_(store),
      committer_(committer),
      rankings_(rankings),
      ranking_writer_(rankings),
      top_cache_(top_ranking_cache_ttl) {
  [[maybe_unused]] const int sodium = sodium_init();  // idempotent; needed for SHA-256
}

Ledger::~Ledger() {
  stop_.Notify();
  if (background_.joinable()) background_.join();
}

namespace {

// Methods only the suite's own services may call (their access option says internal): a key stored
// for them before keys were scoped by caller (migrations/0007) was stored by that same service, so
// it still replays to it and a retry spanning the upgrade is not applied twice. Other methods'
// old keys may have been taken by anyone and are left behind.
bool ReadsUnscopedKeys(const std::string& method) {
  return method == "Award" || method == "BulkAward" || method == "Hold" || method == "Capture" ||
         method == "Release" || method == "ReleaseTimeout";
}

}  // namespace

absl::Status Ledger::Mutate(const std::string& caller, const std::string& method,
                            const std::string& key, const gp::Message& request,
                            const std::string& order_key, gp::Message* response, const Body& body) {
  // An empty caller would share the rows left from before keys had callers.
  if (caller.empty()) {
    return absl::UnauthenticatedError("the caller's token names no subject to own the key");
  }
  const IdempotencyScope scope{caller, method, key, ReadsUnscopedKeys(method)};
  const std::string hash = RequestHash(request);
  std::vector<RankingScore> scores;
  bool reran = false;  // a failure whose cause could not be told was run once more
  absl::Status s = committer_->Run(order_key, [&](pqxx::dbtransaction& tx) -> absl::Status {
    response->Clear();
    scores.clear();
    if (std::optional<IdempotentResult> found = FindKey(tx, scope)) {
      if (found->request_hash != hash) {
        return absl::FailedPreconditionError(absl::StrCat(
            "idempotency key '", key, "' was already used with a different ", method, " request"));
      }
      if (!response->ParseFromString(found->response)) {
        return absl::InternalError("stored result of an idempotent call does not parse");
      }
      return absl::OkStatus();
    }
    absl::Status done = body(tx, response, &scores);
    if (!done.ok() && done.code() != absl::StatusCode::kAborted &&
        KeyTakenMeanwhile(tx, scope).value_or(!reran)) {
      reran = true;
      // A first call with this key (a client's retry racing it, in another batch) committed while
      // this one waited for the account lock, and its change is why this one failed (the hold
      // already exists, the points are already held or captured): roll this one back and run it
      // again, when it replays that call's answer.
      return absl::AbortedError("a concurrent request with the same key went first");
    }
    RETURN_IF_ERROR(done);
    return RetryOnUniqueViolation([&] {
      store_->SaveIdempotent(tx, caller, method, key, hash, response->SerializeAsString());
    });
  });
  if (!s.ok()) return s;
  SyncRankings(scores);
  return absl::OkStatus();
}

std::optional<IdempotentResult> Ledger::FindKey(pqxx::dbtransaction& tx,
                                                const IdempotencyScope& scope) {
  return store_->FindIdempotent(tx, scope.caller, scope.method, scope.key, scope.legacy);
}

std::optional<bool> Ledger::KeyTakenMeanwhile(pqxx::dbtransaction& tx,
                                              const IdempotencyScope& scope) {
  try {
    return FindKey(tx, scope).has_value();
  } catch (const std::exception&) {
    // The failure was a database error that left the unit's savepoint unusable: cannot tell.
    return std::nullopt;
  }
}

void Ledger::SyncRankings(const std::vector<RankingScore>& scores) {
  if (scores.empty()) return;
  absl::Status s = ranking_writer_.Write(scores);
  top_cache_.Invalidate();  // after the write: a read that began before it is not kept
  if (!s.ok()) {
    // PostgreSQL holds the truth; the reconciler brings Redis back in step.
    rankings_dirty_ = true;
    log::Warn("ranking update deferred to the reconciler", {{"error", std::string(s.message())}});
  }
}

absl::StatusOr<v1::AwardResponse> Ledger::Award(const v1::AwardRequest& req,
                                                const std::string& actor) {
  const absl::Time now = absl::Now();
  RETURN_IF_ERROR(CheckKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckAmount(req.amount()));
  RETURN_IF_ERROR(CheckAwardSource(req.source_kind(), req.source_id(), req.verified_by_person_id(),
                                   req.points_rule_id()));
  RETURN_IF_ERROR(CheckFullPath(req.org_path(), "org_path"));
  RETURN_IF_ERROR(CheckReason(req.reason(), false));
  ASSIGN_OR_RETURN(absl::Time occur, OccurTime(req.occur_time(), req.has_occur_time(), now));

  v1::AwardResponse response;
  RETURN_IF_ERROR(
      Mutate(actor, "Award", req.idempotency_key(), req, req.person_id(), &response,
             [&](pqxx::dbtransaction& tx, gp::Message* out, std::vector<RankingScore>* scores) {
               auto* resp = static_cast<v1::AwardResponse*>(out);
               const Posting p =
                   AwardPosting(req, req.person_id(), req.amount(), req.org_path(), actor, occur);
               ASSIGN_OR_RETURN(PgLedgerStore::AwardResult posted,
                                store_->PostAward(tx, p, RankingKeysFor(req.org_path(), occur)));
               // Checked under the account lock, so a concurrent award for the same source under
               // another key is seen once it commits; refusing rolls this one back.
               if (!posted.duplicate_of.empty()) {
                 return absl::AlreadyExistsError(absl::StrCat(
                     "rider ", req.person_id(), " already has award ", posted.duplicate_of,
                     " for this source (", v1::SourceKind_Name(req.source_kind()), " ",
                     req.source_id(), ")"));
               }
               *scores = std::move(posted.scores);
               *resp->mutable_entry() = std::move(posted.entry);
               *resp->mutable_account() = std::move(posted.account);
               return absl::OkStatus();
             }));
  return response;
}

absl::StatusOr<v1::BulkAwardResponse> Ledger::BulkAward(const v1::BulkAwardRequest& req,
                                                        const std::string& actor) {
  const absl::Time now = absl::Now();
  RETURN_IF_ERROR(CheckKey(req.idempotency_key()));
  if (req.items().empty()) return Invalid("items is empty");
  if (req.items_size() > kMaxBulkItems) return Invalid("items has more than 1000 items");
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
      return Invalid(absl::StrCat(where, ".person_id ", item.person_id(), " repeats"));
    }
  }
  const std::string bulk_id = "bulk-" + absl::BytesToHexString(RequestHash(req)).substr(0, 24);

  v1::BulkAwardResponse response;
  RETURN_IF_ERROR(Mutate(
      actor, "BulkAward", req.idempotency_key(), req, *seen.begin(), &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, std::vector<RankingScore>* scores) {
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
          ASSIGN_OR_RETURN(PgLedgerStore::AwardResult posted,
                           store_->PostAward(tx, p, RankingKeysFor(item.org_path(), occur)));
          if (!posted.duplicate_of.empty()) duplicates.push_back(item.person_id());
          scores->insert(scores->end(), posted.scores.begin(), posted.scores.end());
          *resp->add_entries() = std::move(posted.entry);
          *resp->add_accounts() = std::move(posted.account);
        }
        if (!duplicates.empty()) {
          return absl::AlreadyExistsError(
              absl::StrCat("already awarded for this source: ", absl::StrJoin(duplicates, ", ")));
        }
        return absl::OkStatus();
      }));
  return response;
}

absl::StatusOr<v1::DeductResponse> Ledger::Deduct(const v1::DeductRequest& req,
                                                  const std::string& actor) {
  RETURN_IF_ERROR(CheckKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckAmount(req.amount()));
  RETURN_IF_ERROR(CheckReason(req.reason(), true));
  if (req.related_entry_id().size() > kMaxIdLength) {
    return Invalid("related_entry_id is longer than 64 characters");
  }
  v1::DeductResponse response;
  RETURN_IF_ERROR(Mutate(
      actor, "Deduct", req.idempotency_key(), req, req.person_id(), &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, std::vector<RankingScore>* scores) {
        auto* resp = static_cast<v1::DeductResponse*>(out);
        if (!req.related_entry_id().empty()) {
          std::optional<v1::Entry> related = store_->LoadEntry(tx, req.related_entry_id());
          if (!related.has_value() || related->person_id() != req.person_id()) {
            return absl::NotFoundError(absl::StrCat("related_entry_id ", req.related_entry_id(),
                                                    " names no entry of ", req.person_id()));
          }
        }
        Posting p{.person_id = req.person_id(),
                  .kind = v1::ENTRY_KIND_DEDUCT,
                  .amount = req.amount(),
                  .available_delta = -req.amount(),
                  .earned_delta = -req.amount(),
                  .source_kind = v1::SOURCE_KIND_CORRECTION,
                  .source_id = req.related_entry_id(),
                  .reason = req.reason(),
                  .actor_id = actor};
        ASSIGN_OR_RETURN(v1::Entry entry, store_->Post(tx, p));
        v1::Account account = *store_->LoadAccountTx(tx, req.person_id());
        const absl::Time when = ToTime(entry.occur_time());
        *scores = store_->AddRankingScores(tx, req.person_id(),
                                           RankingKeysFor(account.org_path(), when), -req.amount(),
                                           ToTime(entry.create_time()), when, account.org_path());
        *resp->mutable_entry() = entry;
        *resp->mutable_account() = account;
        return absl::OkStatus();
      }));
  return response;
}

absl::StatusOr<v1::ReverseResponse> Ledger::Reverse(const v1::ReverseRequest& req,
                                                    const std::string& actor) {
  RETURN_IF_ERROR(CheckKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.entry_id(), "entry_id"));
  RETURN_IF_ERROR(CheckReason(req.reason(), true));
  v1::ReverseResponse response;
  std::string order_key = req.entry_id();
  if (absl::StatusOr<std::optional<v1::Entry>> e = store_->GetEntry(req.entry_id()); e.ok() && *e) {
    order_key = (*e)->person_id();
  }
  RETURN_IF_ERROR(Mutate(
      actor, "Reverse", req.idempotency_key(), req, order_key, &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, std::vector<RankingScore>* scores) {
        auto* resp = static_cast<v1::ReverseResponse*>(out);
        std::optional<v1::Entry> award = store_->LoadEntry(tx, req.entry_id());
        if (!award.has_value()) {
          return absl::NotFoundError(absl::StrCat("entry ", req.entry_id(), " does not exist"));
        }
        if (award->kind() != v1::ENTRY_KIND_AWARD) {
          return absl::FailedPreconditionError(absl::StrCat("entry ", req.entry_id(), " is ",
                                                            v1::EntryKind_Name(award->kind()),
                                                            "; only awards can be reversed"));
        }
        if (std::optional<v1::Entry> prior = store_->FindReversal(tx, req.entry_id())) {
          return absl::FailedPreconditionError(absl::StrCat(
              "award ", req.entry_id(), " was already reversed by entry ", prior->entry_id()));
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
        absl::StatusOr<v1::Entry> entry;
        RETURN_IF_ERROR(RetryOnUniqueViolation([&] { entry = store_->Post(tx, p); }));
        if (!entry.ok()) {
          if (entry.status().code() == absl::StatusCode::kFailedPrecondition) {
            return absl::FailedPreconditionError(absl::StrCat(
                "cannot reverse award ", req.entry_id(), ": ", entry.status().message(),
                " (the rider already spent it; deduct what is left instead)"));
          }
          return entry.status();
        }
        // The reversal counts against the periods the award counted in.
        const absl::Time awarded_at = ToTime(award->occur_time());
        *scores = store_->AddRankingScores(
            tx, award->person_id(), RankingKeysFor(award->org_path(), awarded_at), -award->amount(),
            ToTime(entry->create_time()), awarded_at, award->org_path());
        *resp->mutable_entry() = *entry;
        *resp->mutable_reversed_entry() = *award;
        resp->mutable_reversed_entry()->set_reversed_by_entry_id(entry->entry_id());
        *resp->mutable_account() = *store_->LoadAccountTx(tx, award->person_id());
        return absl::OkStatus();
      }));
  return response;
}

absl::StatusOr<v1::HoldResponse> Ledger::Hold(const v1::HoldRequest& req,
                                              const std::string& actor) {
  RETURN_IF_ERROR(CheckKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.order_id(), "order_id"));
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckAmount(req.amount()));
  RETURN_IF_ERROR(CheckReason(req.reason(), false));
  std::optional<absl::Duration> timeout;
  if (req.has_timeout()) {
    const absl::Duration d =
        absl::Seconds(req.timeout().seconds()) + absl::Nanoseconds(req.timeout().nanos());
    if (d < absl::Minutes(1) || d > absl::Hours(24 * 30)) {
      return Invalid("timeout must be between 1 minute and 30 days");
    }
    timeout = d;
  }
  const common::v1::OrgPath& path = req.org_path();
  const bool path_set =
      !path.district_id().empty() || !path.street_id().empty() || !path.community_id().empty();
  if (path_set) RETURN_IF_ERROR(CheckFullPath(path, "org_path"));

  v1::HoldResponse response;
  RETURN_IF_ERROR(
      Mutate(actor, "Hold", req.idempotency_key(), req, req.person_id(), &response,
             [&](pqxx::dbtransaction& tx, gp::Message* out, std::vector<RankingScore>*) {
               auto* resp = static_cast<v1::HoldResponse*>(out);
               if (std::optional<v1::Hold> existing = store_->LockHold(tx, req.order_id())) {
                 return absl::AlreadyExistsError(
                     absl::StrCat("order ", req.order_id(), " already has a hold (entry ",
                                  existing->hold_entry_id(), ") under another idempotency key"));
               }
               Posting p{.person_id = req.person_id(),
                         .kind = v1::ENTRY_KIND_HOLD,
                         .amount = req.amount(),
                         .available_delta = -req.amount(),
                         .held_delta = req.amount(),
                         .source_kind = v1::SOURCE_KIND_REDEMPTION,
                         .source_id = req.order_id(),
                         .org_path = path,
                         .reason = req.reason(),
                         .actor_id = actor,
                         .order_id = req.order_id()};
               absl::StatusOr<v1::Entry> entry = store_->Post(tx, p);
               if (!entry.ok()) {
                 if (entry.status().code() == absl::StatusCode::kFailedPrecondition) {
                   return absl::FailedPreconditionError(
                       absl::StrCat("not enough points to hold ", req.amount(), " for order ",
                                    req.order_id(), ": ", entry.status().message()));
                 }
                 return entry.status();
               }
               v1::Hold hold;
               hold.set_order_id(req.order_id());
               hold.set_person_id(req.person_id());
               hold.set_amount(req.amount());
               hold.set_state(v1::HOLD_STATE_HELD);
               if (timeout.has_value()) {
                 *hold.mutable_expire_time() = ToProto(ToTime(entry->create_time()) + *timeout);
               }
               if (path_set) *hold.mutable_org_path() = path;
               hold.set_hold_entry_id(entry->entry_id());
               *hold.mutable_create_time() = entry->create_time();
               RETURN_IF_ERROR(
                   RetryOnUniqueViolation([&] { store_->InsertHold(tx, hold, *entry, path); }));
               *resp->mutable_hold() = hold;
               *resp->mutable_entry() = *entry;
               *resp->mutable_account() = *store_->LoadAccountTx(tx, req.person_id());
               return absl::OkStatus();
             }));
  return response;
}

absl::StatusOr<v1::CaptureResponse> Ledger::Capture(const v1::CaptureRequest& req,
                                                    const std::string& actor) {
  RETURN_IF_ERROR(CheckKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.order_id(), "order_id"));
  v1::CaptureResponse response;
  RETURN_IF_ERROR(Mutate(
      actor, "Capture", req.idempotency_key(), req, LockOrderForHold(req.order_id()), &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, std::vector<RankingScore>*) {
        auto* resp = static_cast<v1::CaptureResponse*>(out);
        std::optional<v1::Hold> hold = store_->LockHold(tx, req.order_id());
        if (!hold.has_value()) {
          return absl::NotFoundError(absl::StrCat("order ", req.order_id(), " has no hold"));
        }
        if (hold->state() == v1::HOLD_STATE_RELEASED) {
          return absl::FailedPreconditionError(
              absl::StrCat("the hold of order ", req.order_id(), " was released",
                           hold->expired() ? " when it timed out" : "", "; nothing to capture"));
        }
        if (hold->state() == v1::HOLD_STATE_CAPTURED) {
          return absl::FailedPreconditionError(absl::StrCat("the hold of order ", req.order_id(),
                                                            " was already captured (entry ",
                                                            hold->settle_entry_id(), ")"));
        }
        if (hold->has_expire_time() && ToTime(hold->expire_time()) <= absl::Now()) {
          return absl::FailedPreconditionError(
              absl::StrCat("the hold of order ", req.order_id(), " expired at ",
                           TimeUtil::ToString(hold->expire_time())));
        }
        Posting p{.person_id = hold->person_id(),
                  .kind = v1::ENTRY_KIND_CAPTURE,
                  .amount = hold->amount(),
                  .held_delta = -hold->amount(),
                  .source_kind = v1::SOURCE_KIND_REDEMPTION,
                  .source_id = req.order_id(),
                  .org_path = hold->org_path(),
                  .actor_id = actor,
                  .order_id = req.order_id()};
        ASSIGN_OR_RETURN(v1::Entry entry, store_->Post(tx, p));
        store_->SettleHold(tx, req.order_id(), v1::HOLD_STATE_CAPTURED, entry, false);
        hold->set_state(v1::HOLD_STATE_CAPTURED);
        hold->set_settle_entry_id(entry.entry_id());
        *hold->mutable_settle_time() = entry.create_time();
        *resp->mutable_hold() = *hold;
        *resp->mutable_entry() = entry;
        *resp->mutable_account() = *store_->LoadAccountTx(tx, hold->person_id());
        return absl::OkStatus();
      }));
  return response;
}

absl::StatusOr<v1::ReleaseResponse> Ledger::Release(const v1::ReleaseRequest& req,
                                                    const std::string& actor) {
  RETURN_IF_ERROR(CheckKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.order_id(), "order_id"));
  RETURN_IF_ERROR(CheckReason(req.reason(), false));
  return ReleaseHold("Release", req, actor, /*by_timeout=*/false);
}

std::string Ledger::LockOrderForHold(const std::string& order_id) {
  // A hold's rider never changes, so this read outside the transaction is safe; ordering units by
  // rider makes batches lock accounts in one order and so rarely deadlock.
  absl::StatusOr<std::optional<v1::Hold>> hold = store_->GetHold(order_id);
  return hold.ok() && hold->has_value() ? (*hold)->person_id() : order_id;
}

absl::StatusOr<v1::ReleaseResponse> Ledger::ReleaseHold(const std::string& method,
                                                        const v1::ReleaseRequest& req,
                                                        const std::string& actor, bool by_timeout) {
  v1::ReleaseResponse response;
  RETURN_IF_ERROR(
      Mutate(actor, method, req.idempotency_key(), req, LockOrderForHold(req.order_id()), &response,
             [&](pqxx::dbtransaction& tx, gp::Message* out, std::vector<RankingScore>*) {
               auto* resp = static_cast<v1::ReleaseResponse*>(out);
               std::optional<v1::Hold> hold = store_->LockHold(tx, req.order_id());
               if (!hold.has_value()) {
                 return absl::NotFoundError(absl::StrCat("order ", req.order_id(), " has no hold"));
               }
               if (hold->state() == v1::HOLD_STATE_CAPTURED) {
                 return absl::FailedPreconditionError(
                     absl::StrCat("the hold of order ", req.order_id(), " was captured (entry ",
                                  hold->settle_entry_id(), "); it cannot be released"));
               }
               if (hold->state() == v1::HOLD_STATE_RELEASED) {
                 // Already released (by the caller earlier, or by the timeout): the goal is met.
                 *resp->mutable_hold() = *hold;
                 if (std::optional<v1::Entry> e = store_->LoadEntry(tx, hold->settle_entry_id())) {
                   *resp->mutable_entry() = *e;
                 }
                 *resp->mutable_account() = *store_->LoadAccountTx(tx, hold->person_id());
                 return absl::OkStatus();
               }
               Posting p{.person_id = hold->person_id(),
                         .kind = v1::ENTRY_KIND_RELEASE,
                         .amount = hold->amount(),
                         .available_delta = hold->amount(),
                         .held_delta = -hold->amount(),
                         .source_kind = v1::SOURCE_KIND_REDEMPTION,
                         .source_id = req.order_id(),
                         .org_path = hold->org_path(),
                         .reason = req.reason(),
                         .actor_id = actor,
                         .order_id = req.order_id()};
               ASSIGN_OR_RETURN(v1::Entry entry, store_->Post(tx, p));
               store_->SettleHold(tx, req.order_id(), v1::HOLD_STATE_RELEASED, entry, by_timeout);
               hold->set_state(v1::HOLD_STATE_RELEASED);
               hold->set_expired(by_timeout);
               hold->set_settle_entry_id(entry.entry_id());
               *hold->mutable_settle_time() = entry.create_time();
               *resp->mutable_hold() = *hold;
               *resp->mutable_entry() = entry;
               *resp->mutable_account() = *store_->LoadAccountTx(tx, hold->person_id());
               return absl::OkStatus();
             }));
  return response;
}

absl::StatusOr<int> Ledger::ReleaseDueHolds() {
  ASSIGN_OR_RETURN(std::vector<std::string> due, store_->DueHolds(100));
  int released = 0;
  for (const std::string& order : due) {
    v1::ReleaseRequest req;
    req.set_idempotency_key("ledger-timeout/" + order);
    req.set_order_id(order);
    req.set_reason("hold timed out");
    absl::StatusOr<v1::ReleaseResponse> r =
        ReleaseHold("ReleaseTimeout", req, "ledger:hold-timeout", /*by_timeout=*/true);
    if (r.ok()) {
      ++released;
    } else {
      log::Warn("hold timeout release failed",
                {{"order_id", order}, {"error", std::string(r.status().message())}});
    }
  }
  return released;
}

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

absl::StatusOr<v1::Hold> Ledger::GetHold(const std::string& order_id) {
  RETURN_IF_ERROR(CheckId(order_id, "order_id"));
  ASSIGN_OR_RETURN(std::optional<v1::Hold> hold, store_->GetHold(order_id));
  if (!hold.has_value())
    return absl::NotFoundError(absl::StrCat("order ", order_id, " has no hold"));
  return *hold;
}

absl::StatusOr<v1::ListEntriesResponse> Ledger::ListEntries(const v1::ListEntriesRequest& req) {
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  PgLedgerStore::EntryFilter f;
  f.person_id = req.person_id();
  if (req.page_size() < 0) return Invalid("page_size must not be negative");
  f.limit = req.page_size() == 0 ? kDefaultPageSize : std::min(req.page_size(), kMaxPageSize);
  if (req.has_time_range()) {
    if (req.time_range().has_start_time()) f.start = ToTime(req.time_range().start_time());
    if (req.time_range().has_end_time()) f.end = ToTime(req.time_range().end_time());
    if (f.start && f.end && *f.start >= *f.end)
      return Invalid("time_range.start_time is not before end_time");
  }
  for (int k : req.kinds()) {
    if (k == v1::ENTRY_KIND_UNSPECIFIED || !v1::EntryKind_IsValid(k))
      return Invalid("kinds holds an unknown kind");
    f.kinds.push_back(k);
  }
  for (int k : req.source_kinds()) {
    if (k == v1::SOURCE_KIND_UNSPECIFIED || !v1::SourceKind_IsValid(k)) {
      return Invalid("source_kinds holds an unknown kind");
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
      return Invalid("page_token is not valid for this request");
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
    return Invalid("person_id is longer than 64 characters");
  if (req.start_sequence() < 0) return Invalid("start_sequence must not be negative");
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
      return Invalid("granularity is required (day, ISO week or month)");
  }
  // The buckets: those overlapping time_range, or the 30 up to and including the current one.
  std::vector<Bucket> buckets;
  const absl::Time now = absl::Now();
  if (req.has_time_range() &&
      (req.time_range().has_start_time() || req.time_range().has_end_time())) {
    const absl::Time end =
        req.time_range().has_end_time() ? ToTime(req.time_range().end_time()) : now;
    if (!req.time_range().has_start_time()) return Invalid("time_range.start_time is required");
    const absl::Time start = ToTime(req.time_range().start_time());
    if (start >= end) return Invalid("time_range.start_time is not before end_time");
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
  if (start_day > end_day) return Invalid("start_day is after end_day");
  if (end_day - start_day > 366) return Invalid("the range is longer than 366 days");

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

namespace {

v1::RankingEntry ToEntry(const RankedRider& r) {
  v1::RankingEntry e;
  e.set_rank(r.rank);
  e.set_person_id(r.person_id);
  e.set_score(r.points);
  return e;
}

}  // namespace

absl::StatusOr<v1::GetTopRankingResponse> Ledger::GetTopRanking(
    const v1::GetTopRankingRequest& req) {
  ASSIGN_OR_RETURN(std::string key, RankingKeyFor(req.scope(), req.period(), absl::Now()));
  if (req.top_n() < 0 || req.top_n() > kMaxTopN) return Invalid("top_n must be 1-1000");
  const int64_t n = req.top_n() == 0 ? 10 : req.top_n();
  auto read_top = [&]() -> absl::StatusOr<TopRead> {
    TopRead read;
    ASSIGN_OR_RETURN(read.riders, rankings_->Top(key, n, &read.total));
    std::vector<RankedRider>& top = read.riders;
    if (req.include_ties() && static_cast<int64_t>(top.size()) == n) {
      // Riders tied with the n-th place are inside the cut (up to 1,000 more), read a page at a
      // time below it.
      const int64_t cut = top.back().points;
      for (int64_t start = n; start < n + kMaxTopN; start += 100) {
        ASSIGN_OR_RETURN(std::vector<RankedRider> more,
                         rankings_->Range(key, start, start + 99, nullptr));
        bool done = more.size() < 100;
        for (const RankedRider& r : more) {
          if (r.points != cut) {
            done = true;
            break;
          }
          top.push_back(r);
        }
        if (done) break;
      }
    }
    return read;
  };
  ASSIGN_OR_RETURN(
      std::shared_ptr<const TopRead> read,
      top_cache_.Get(absl::StrCat(key, "|top:", n, req.include_ties() ? "+ties" : ""), read_top));
  v1::GetTopRankingResponse resp;
  *resp.mutable_period() = req.period();
  for (const RankedRider& r : read->riders) *resp.add_entries() = ToEntry(r);
  resp.set_total_ranked(read->total);
  return resp;
}

absl::StatusOr<v1::GetRankResponse> Ledger::GetRank(const v1::GetRankRequest& req) {
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  ASSIGN_OR_RETURN(std::string key, RankingKeyFor(req.scope(), req.period(), absl::Now()));
  ASSIGN_OR_RETURN(std::optional<RankedRider> me, rankings_->RankOf(key, req.person_id()));
  v1::GetRankResponse resp;
  ASSIGN_OR_RETURN(bool excluded, rankings_->IsExcluded(req.person_id()));
  resp.set_excluded(excluded);
  if (me.has_value()) {
    *resp.mutable_entry() = ToEntry(*me);
  } else {
    resp.mutable_entry()->set_person_id(req.person_id());  // rank 0: not ranked yet
  }
  ASSIGN_OR_RETURN(int64_t count, rankings_->Count(key));
  resp.set_total_ranked(count);
  *resp.mutable_period() = req.period();
  return resp;
}

absl::StatusOr<v1::GetRankingNeighboursResponse> Ledger::GetRankingNeighbours(
    const v1::GetRankingNeighboursRequest& req) {
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  ASSIGN_OR_RETURN(std::string key, RankingKeyFor(req.scope(), req.period(), absl::Now()));
  if (req.above() < 0 || req.above() > 50 || req.below() < 0 || req.below() > 50) {
    return Invalid("above and below must be 0-50");
  }
  const int above = req.above() == 0 && req.below() == 0 ? 1 : req.above();
  const int below = req.above() == 0 && req.below() == 0 ? 1 : req.below();
  ASSIGN_OR_RETURN(std::vector<RankedRider> around,
                   rankings_->Around(key, req.person_id(), above, below));
  v1::GetRankingNeighboursResponse resp;
  bool seen_self = false;
  for (const RankedRider& r : around) {
    if (r.person_id == req.person_id()) {
      *resp.mutable_self() = ToEntry(r);
      seen_self = true;
    } else {
      *(seen_self ? resp.add_below() : resp.add_above()) = ToEntry(r);
    }
  }
  if (!seen_self) resp.mutable_self()->set_person_id(req.person_id());
  ASSIGN_OR_RETURN(int64_t count, rankings_->Count(key));
  resp.set_total_ranked(count);
  *resp.mutable_period() = req.period();
  return resp;
}

absl::StatusOr<v1::ExcludeFromRankingsResponse> Ledger::ExcludeFromRankings(
    const v1::ExcludeFromRankingsRequest& req, const std::string& actor) {
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckReason(req.reason(), true));
  v1::ExcludeFromRankingsResponse resp;
  std::vector<RankingScore> scores;
  RETURN_IF_ERROR(committer_->Run(req.person_id(), [&](pqxx::dbtransaction& tx) {
    scores.clear();
    if (std::optional<v1::RankingExclusion> existing = store_->FindExclusion(tx, req.person_id())) {
      *resp.mutable_exclusion() = *existing;  // already excluded: the earlier exclusion stands
      return absl::OkStatus();
    }
    return RetryOnUniqueViolation([&] {
      *resp.mutable_exclusion() =
          store_->Exclude(tx, req.person_id(), req.reason(), actor, &scores);
    });
  }));
  SyncRankings(scores);
  if (!rankings_->SetExcluded(req.person_id(), true).ok()) rankings_dirty_ = true;
  top_cache_.Invalidate();
  return resp;
}

absl::StatusOr<v1::RestoreToRankingsResponse> Ledger::RestoreToRankings(
    const v1::RestoreToRankingsRequest& req, const std::string& actor) {
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckReason(req.reason(), true));
  v1::RestoreToRankingsResponse resp;
  std::vector<RankingScore> scores;
  RETURN_IF_ERROR(committer_->Run(req.person_id(), [&](pqxx::dbtransaction& tx) {
    resp.Clear();
    scores.clear();
    std::optional<v1::RankingExclusion> existing = store_->FindExclusion(tx, req.person_id());
    if (!existing.has_value()) return absl::OkStatus();  // nothing to restore
    resp.set_was_excluded(true);
    *resp.mutable_ended_exclusion() = *existing;
    *resp.mutable_restore_time() =
        ToProto(store_->Restore(tx, req.person_id(), req.reason(), actor, &scores));
    return absl::OkStatus();
  }));
  SyncRankings(scores);
  if (!rankings_->SetExcluded(req.person_id(), false).ok()) rankings_dirty_ = true;
  top_cache_.Invalidate();
  return resp;
}

absl::StatusOr<v1::ListRankingExclusionsResponse> Ledger::ListRankingExclusions(
    const v1::ListRankingExclusionsRequest& req) {
  ASSIGN_OR_RETURN(const NodeColumns node, ColumnsFor(req.scope()));
  if (req.page_size() < 0) return Invalid("page_size must not be negative");
  const int limit =
      req.page_size() == 0 ? kDefaultPageSize : std::min(req.page_size(), kMaxPageSize);
  std::string after;
  if (!req.page_token().empty() && !absl::WebSafeBase64Unescape(req.page_token(), &after)) {
    return Invalid("page_token is not valid for this request");
  }
  ASSIGN_OR_RETURN(std::vector<v1::RankingExclusion> rows,
                   store_->ListExclusions(node.column, req.scope().org_id(), after, limit));
  v1::ListRankingExclusionsResponse resp;
  for (v1::RankingExclusion& x : rows) *resp.add_exclusions() = std::move(x);
  if (static_cast<int>(rows.size()) == limit) {
    resp.set_next_page_token(
        absl::WebSafeBase64Escape(resp.exclusions(resp.exclusions_size() - 1).person_id()));
  }
  return resp;
}

absl::StatusOr<v1::Season> Ledger::CreateSeason(const v1::CreateSeasonRequest& req,
                                                const std::string& actor) {
  RETURN_IF_ERROR(CheckKey(req.idempotency_key()));
  const size_t name_chars = Utf8Length(req.display_name());
  if (name_chars < 1 || name_chars > 64) return Invalid("display_name must be 1-64 characters");
  const common::v1::OrgLevel level = req.scope().level();
  if (level < common::v1::ORG_LEVEL_CITY || level > common::v1::ORG_LEVEL_COMMUNITY) {
    return Invalid("scope.level is required (city, district, street or community)");
  }
  if (level != common::v1::ORG_LEVEL_CITY)
    RETURN_IF_ERROR(CheckId(req.scope().org_id(), "scope.org_id"));
  if (!req.has_start_time() || !req.has_end_time()) {
    return Invalid("start_time and end_time are required");
  }
  const absl::Time start = ToTime(req.start_time()), end = ToTime(req.end_time());
  if (end <= start) return Invalid("end_time must be after start_time");
  if (end - start > absl::Hours(24 * 366)) return Invalid("a season lasts at most 366 days");
  if (start < absl::Now() - absl::Hours(24 * 366)) {
    return Invalid("start_time is more than 366 days ago");
  }
  v1::CreateSeasonResponse response;
  RETURN_IF_ERROR(
      Mutate(actor, "CreateSeason", req.idempotency_key(), req, "season", &response,
             [&](pqxx::dbtransaction& tx, gp::Message* out, std::vector<RankingScore>* scores) {
               v1::Season season;
               season.set_display_name(req.display_name());
               *season.mutable_scope() = req.scope();
               if (level == common::v1::ORG_LEVEL_CITY) season.mutable_scope()->clear_org_id();
               *season.mutable_start_time() = req.start_time();
               *season.mutable_end_time() = req.end_time();
               season.set_creator_id(actor);
               *static_cast<v1::CreateSeasonResponse*>(out)->mutable_season() =
                   store_->InsertSeason(tx, season, scores);
               return absl::OkStatus();
             }));
  return response.season();
}

absl::StatusOr<v1::Season> Ledger::GetSeason(const std::string& season_id) {
  RETURN_IF_ERROR(CheckId(season_id, "season_id"));
  ASSIGN_OR_RETURN(std::optional<v1::Season> season, store_->GetSeason(season_id));
  if (!season.has_value())
    return absl::NotFoundError(absl::StrCat("season ", season_id, " does not exist"));
  return *season;
}

absl::StatusOr<v1::ListSeasonsResponse> Ledger::ListSeasons(const v1::ListSeasonsRequest& req) {
  if (req.page_size() < 0) return Invalid("page_size must not be negative");
  const int limit =
      req.page_size() == 0 ? kDefaultPageSize : std::min(req.page_size(), kMaxPageSize);
  int level = 0;
  if (req.has_scope()) {
    level = req.scope().level();
    if (level < common::v1::ORG_LEVEL_CITY || level > common::v1::ORG_LEVEL_COMMUNITY) {
      return Invalid("scope.level must be city, district, street or community");
    }
    if (level != common::v1::ORG_LEVEL_CITY)
      RETURN_IF_ERROR(CheckId(req.scope().org_id(), "scope.org_id"));
  }
  for (int st : req.states()) {
    if (st == v1::SEASON_STATE_UNSPECIFIED || !v1::SeasonState_IsValid(st)) {
      return Invalid("states holds an unknown state");
    }
  }
  int64_t after = 0;
  if (!req.page_token().empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(req.page_token(), &decoded) ||
        !absl::SimpleAtoi(decoded, &after) || after <= 0) {
      return Invalid("page_token is not valid for this request");
    }
  }
  // Ancestors of a node are not known to the ledger; a node's seasons and the city's are listed.
  v1::ListSeasonsResponse resp;
  while (resp.seasons_size() < limit) {
    ASSIGN_OR_RETURN(auto rows,
                     store_->ListSeasons(level, req.scope().org_id(), "", "", after, limit));
    for (auto& [seq, season] : rows) {
      after = seq;
      const bool wanted =
          req.states().empty() ||
          std::find(req.states().begin(), req.states().end(), season.state()) != req.states().end();
      if (wanted && resp.seasons_size() < limit) *resp.add_seasons() = std::move(season);
    }
    if (static_cast<int>(rows.size()) < limit) {
      after = 0;
      break;
    }
  }
  if (after > 0) resp.set_next_page_token(absl::WebSafeBase64Escape(absl::StrCat(after)));
  return resp;
}

absl::StatusOr<v1::RankingSnapshot> Ledger::SnapshotRanking(const v1::SnapshotRankingRequest& req,
                                                            const std::string& actor) {
  RETURN_IF_ERROR(CheckKey(req.idempotency_key()));
  ASSIGN_OR_RETURN(std::string key, RankingKeyFor(req.scope(), req.period(), absl::Now()));
  if (req.top_n() < 1 || req.top_n() > kMaxTopN) return Invalid("top_n must be 1-1000");
  v1::SnapshotRankingResponse response;
  RETURN_IF_ERROR(
      Mutate(actor, "SnapshotRanking", req.idempotency_key(), req, "snapshot", &response,
             [&](pqxx::dbtransaction& tx, gp::Message* out, std::vector<RankingScore>*) {
               v1::RankingSnapshot* snap =
                   static_cast<v1::SnapshotRankingResponse*>(out)->mutable_snapshot();
               snap->set_snapshot_id(SnapshotId(req, actor, req.idempotency_key()));
               *snap->mutable_scope() = req.scope();
               *snap->mutable_period() = req.period();
               // The resolved key, so "this month" stays the month the snapshot was taken in.
               const std::string period_part = key.substr(key.find('|') + 1);
               const size_t colon = period_part.find(':');
               if (colon != std::string::npos)
                 snap->mutable_period()->set_key(period_part.substr(colon + 1));
               snap->set_top_n(req.top_n());
               snap->set_include_ties(req.include_ties());
               int64_t as_of = 0;
               for (v1::RankingEntry& e :
                    store_->ReadRanking(tx, key, req.top_n(), req.include_ties(), &as_of)) {
                 *snap->add_entries() = std::move(e);
               }
               snap->set_as_of_sequence(as_of);
               *snap->mutable_create_time() = ToProto(absl::Now());
               snap->set_creator_id(actor);
               return RetryOnUniqueViolation([&] { store_->SaveSnapshot(tx, *snap); });
             }));
  return response.snapshot();
}

absl::StatusOr<v1::RankingSnapshot> Ledger::GetRankingSnapshot(const std::string& snapshot_id) {
  RETURN_IF_ERROR(CheckId(snapshot_id, "snapshot_id"));
  ASSIGN_OR_RETURN(std::optional<v1::RankingSnapshot> snap, store_->GetSnapshot(snapshot_id));
  if (!snap.has_value()) {
    return absl::NotFoundError(absl::StrCat("snapshot ", snapshot_id, " does not exist"));
  }
  return *snap;
}

absl::StatusOr<v1::RebuildRankingsResponse> Ledger::RebuildRankings() {
  const absl::Time start = absl::Now();
  int64_t written = 0;
  std::set<std::string> keys;
  RETURN_IF_ERROR(store_->ForEachRankingScore(5000, [&](std::vector<RankingScore>& scores) {
    for (const RankingScore& s : scores) keys.insert(s.ranking_key);
    written += static_cast<int64_t>(scores.size());
    return rankings_->Apply(scores);
  }));
  ASSIGN_OR_RETURN(std::vector<std::string> excluded, store_->AllExcluded());
  RETURN_IF_ERROR(rankings_->ReplaceExcluded(excluded));
  top_cache_.Invalidate();
  RETURN_IF_ERROR(rankings_->SetRebuildMarker());
  v1::RebuildRankingsResponse resp;
  resp.set_rankings_rebuilt(static_cast<int64_t>(keys.size()));
  resp.set_members_written(written);
  const absl::Duration elapsed = absl::Now() - start;
  resp.mutable_elapsed()->set_seconds(absl::ToInt64Seconds(elapsed));
  resp.mutable_elapsed()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(elapsed % absl::Seconds(1))));
  return resp;
}

void Ledger::StartBackground(absl::Duration interval) {
  background_ = std::thread([this, interval] { BackgroundLoop(interval); });
}

void Ledger::BackgroundLoop(absl::Duration interval) {
  do {
    absl::StatusOr<bool> marker = rankings_->HasRebuildMarker();
    if (marker.ok() && (!*marker || rankings_dirty_.exchange(false))) {
      absl::StatusOr<v1::RebuildRankingsResponse> rebuilt = RebuildRankings();
      if (rebuilt.ok()) {
        log::Info("rankings rebuilt from PostgreSQL", {{"rankings", rebuilt->rankings_rebuilt()},
                                                       {"members", rebuilt->members_written()}});
      } else {
        rankings_dirty_ = true;
        log::Warn("ranking rebuild failed", {{"error", std::string(rebuilt.status().message())}});
      }
    }
    if (absl::StatusOr<int> released = ReleaseDueHolds(); released.ok() && *released > 0) {
      log::Info("holds released on timeout", {{"count", *released}});
    }
  } while (!stop_.WaitForNotificationWithTimeout(interval));
}

}  // namespace civicpoints::ledger
