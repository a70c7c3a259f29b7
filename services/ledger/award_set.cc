#include "services/ledger/award_set.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "civicpoints/ledger/v1/errors.pb.h"
#include "civicpoints/ledger/v1/ledger_service.pb.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/ledger/entry_hash.h"

namespace civicpoints::ledger {

namespace {

// An account's available and held points together never pass this (accounts_total_bounded).
constexpr int64_t kMaxAccountTotal = 1000000000000;

void SetMicros(google::protobuf::Timestamp* ts, int64_t micros) {
  ts->set_seconds(micros / 1000000);
  ts->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

// The refusals post_entry() would raise, with its words.
absl::Status CheckBalances(const v1::Account& a, const Posting& p) {
  if (a.available() + p.available_delta < 0 || a.held() + p.held_delta < 0 ||
      a.net_earned() + p.earned_delta < 0) {
    return Refuse(absl::StatusCode::kFailedPrecondition,
                  v1::LEDGER_ERROR_REASON_INSUFFICIENT_POINTS,
                  absl::StrCat("account ", p.person_id, " has ", a.available(),
                               " points available, ", -p.available_delta, " needed"));
  }
  if (a.available() + p.available_delta + a.held() + p.held_delta > kMaxAccountTotal) {
    return Refuse(
        absl::StatusCode::kResourceExhausted, v1::LEDGER_ERROR_REASON_ACCOUNT_LIMIT,
        absl::StrCat("account ", p.person_id, " would exceed ", kMaxAccountTotal, " points"));
  }
  return absl::OkStatus();
}

// The entry `p` appends to account `a` at `now_micros` (without its sequence, drawn later), and
// `a` after it, as post_entry() computes both.
v1::Entry Append(const Posting& p, int64_t now_micros, v1::Account& a) {
  v1::Entry e;
  e.set_person_id(p.person_id);
  e.set_account_sequence(a.entry_count() + 1);
  e.set_kind(p.kind);
  e.set_amount(p.amount);
  e.set_available_delta(p.available_delta);
  e.set_held_delta(p.held_delta);
  e.set_earned_delta(p.earned_delta);
  e.set_available_after(a.available() + p.available_delta);
  e.set_held_after(a.held() + p.held_delta);
  e.set_source_kind(p.source_kind);
  e.set_source_id(p.source_id);
  e.set_points_rule_id(p.points_rule_id);
  e.set_verified_by_person_id(p.verified_by);
  if (!p.org_path.community_id().empty()) *e.mutable_org_path() = p.org_path;
  e.set_reason(p.reason);
  e.set_actor_id(p.actor_id);
  e.set_order_id(p.order_id);
  e.set_reversed_entry_id(p.reversed_entry_id);
  e.set_bulk_award_id(p.bulk_award_id);
  // Whole microseconds, as timestamptz stores them and the hash reads them.
  SetMicros(e.mutable_occur_time(),
            p.occur_time.has_value() ? absl::ToUnixMicros(*p.occur_time) : now_micros);
  SetMicros(e.mutable_create_time(), now_micros);
  e.set_prev_hash(a.head_hash());
  e.set_hash(EntryHash(e));

  a.set_available(e.available_after());
  a.set_held(e.held_after());
  if (p.kind == v1::ENTRY_KIND_AWARD) a.set_lifetime_earned(a.lifetime_earned() + p.amount);
  a.set_net_earned(a.net_earned() + p.earned_delta);
  if (p.kind == v1::ENTRY_KIND_CAPTURE) a.set_lifetime_spent(a.lifetime_spent() + p.amount);
  a.set_entry_count(e.account_sequence());
  a.set_head_hash(e.hash());
  if (p.kind == v1::ENTRY_KIND_AWARD && !p.org_path.community_id().empty()) {
    *a.mutable_org_path() = p.org_path;
  }
  *a.mutable_update_time() = e.create_time();
  return e;
}

// What one accepted call writes: its entries, each with its account after it.
struct Written {
  AwardItem* item;
  std::vector<size_t> entries;  // indices into the set's entries
  std::vector<v1::Account> accounts;
};

void FillResponse(const AwardItem& item, const std::vector<v1::Entry>& entries, const Written& w) {
  if (item.bulk) {
    auto* resp = static_cast<v1::BulkAwardResponse*>(item.response);
    resp->set_bulk_award_id(item.bulk_award_id);
    for (size_t k = 0; k < w.entries.size(); ++k) {
      *resp->add_entries() = entries[w.entries[k]];
      *resp->add_accounts() = w.accounts[k];
    }
  } else {
    auto* resp = static_cast<v1::AwardResponse*>(item.response);
    *resp->mutable_entry() = entries[w.entries[0]];
    *resp->mutable_account() = w.accounts[0];
  }
}

}  // namespace

absl::Status AwardSetRunner::RunSet(pqxx::dbtransaction& tx, const std::vector<SetItem*>& set) {
  // A key twice in one set (a client's retry racing its first call): the later copy follows the
  // first, and answers what a replay of it would.
  std::vector<AwardItem*> live;
  std::vector<std::pair<AwardItem*, AwardItem*>> followers;  // (copy, the first with its key)
  std::map<std::tuple<std::string, std::string, std::string>, AwardItem*> first_with_key;
  for (SetItem* s : set) {
    auto* item = static_cast<AwardItem*>(s);
    item->response->Clear();
    *item->ranked = 0;
    item->result = absl::OkStatus();
    auto [first, fresh] = first_with_key.try_emplace({item->caller, item->method, item->key}, item);
    if (!fresh) {
      followers.emplace_back(item, first->second);
      continue;
    }
    live.push_back(item);
  }
  const auto answer_followers = [&followers] {
    for (auto [copy, first] : followers) {
      if (!first->result.ok()) {
        // Nothing was stored under the key: the copy runs again in a later batch.
        copy->result = absl::AbortedError("the same idempotency key came twice in one batch");
      } else if (copy->request_hash != first->request_hash) {
        copy->result = Refuse(
            absl::StatusCode::kFailedPrecondition, v1::LEDGER_ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
            absl::StrCat("idempotency key '", copy->key, "' was already used with a different ",
                         copy->method, " request"));
      } else {
        copy->response->CopyFrom(*first->response);
      }
    }
  };

  std::vector<std::string> persons;
  for (const AwardItem* item : live) {
    for (const Posting& p : item->postings) persons.push_back(p.person_id);
  }
  std::sort(persons.begin(), persons.end());
  persons.erase(std::unique(persons.begin(), persons.end()), persons.end());
  ASSIGN_OR_RETURN(std::vector<v1::Account> locked, store_->LockJournalAndAccounts(tx, persons));
  std::map<std::string, v1::Account> accounts;
  for (v1::Account& a : locked) accounts[a.person_id()] = std::move(a);
  if (accounts.size() != persons.size()) {
    return absl::InternalError("an account to award was neither opened nor found");
  }

  int postings = 0;
  std::vector<PgLedgerStore::KeyLookup> keys;
  std::vector<PgLedgerStore::SourceLookup> sources;
  std::vector<std::pair<size_t, size_t>> source_posting;  // (item, posting) of each source
  for (size_t i = 0; i < live.size(); ++i) {
    const AwardItem& item = *live[i];
    keys.push_back({item.caller, item.method, item.key, item.legacy_keys});
    postings += static_cast<int>(item.postings.size());
    for (size_t j = 0; j < item.postings.size(); ++j) {
      const Posting& p = item.postings[j];
      if (p.source_id.empty()) continue;  // corrections without a source may repeat
      sources.push_back({p.source_kind, p.source_id, p.person_id});
      source_posting.emplace_back(i, j);
    }
  }
  ASSIGN_OR_RETURN(PgLedgerStore::AwardChecks checks,
                   store_->CheckAwards(tx, keys, sources, postings));
  std::map<std::pair<size_t, size_t>, int64_t> awarded_before;
  for (const auto& [s, sequence] : checks.awarded) awarded_before[source_posting[s]] = sequence;

  std::vector<v1::Entry> entries;
  std::vector<Written> written;
  std::set<std::tuple<int, std::string, std::string>> sources_in_set;
  for (size_t i = 0; i < live.size(); ++i) {
    AwardItem& item = *live[i];
    if (auto stored = checks.stored.find(i); stored != checks.stored.end()) {
      if (stored->second.request_hash != item.request_hash) {
        item.result = Refuse(
            absl::StatusCode::kFailedPrecondition, v1::LEDGER_ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
            absl::StrCat("idempotency key '", item.key, "' was already used with a different ",
                         item.method, " request"));
      } else if (!item.response->ParseFromString(stored->second.response)) {
        item.result = absl::InternalError("stored result of an idempotent call does not parse");
      }
      continue;
    }
    std::vector<std::string> duplicates;
    int64_t first_duplicate = 0;
    bool beside_earlier = false;
    for (size_t j = 0; j < item.postings.size(); ++j) {
      const Posting& p = item.postings[j];
      if (auto d = awarded_before.find({i, j}); d != awarded_before.end()) {
        duplicates.push_back(p.person_id);
        if (first_duplicate == 0) first_duplicate = d->second;
      }
      if (!p.source_id.empty() &&
          sources_in_set.count({static_cast<int>(p.source_kind), p.source_id, p.person_id}) > 0) {
        beside_earlier = true;
      }
    }
    if (!duplicates.empty()) {
      const Posting& p = item.postings[0];
      item.result = absl::AlreadyExistsError(
          item.bulk
              ? absl::StrCat("already awarded for this source: ", absl::StrJoin(duplicates, ", "))
              : absl::StrCat("rider ", p.person_id, " already has award ", first_duplicate,
                             " for this source (", v1::SourceKind_Name(p.source_kind), " ",
                             p.source_id, ")"));
      continue;
    }
    if (beside_earlier) {
      // An earlier call of this set awards the same source to the same rider: once it commits,
      // this one is refused (or replays, had it the same key) in the next batch.
      item.result = absl::AbortedError("an award of the same source is in the same batch");
      continue;
    }

    // On copies, kept only if every award of the call is accepted.
    std::map<std::string, v1::Account> changed;
    Written w{&item, {}, {}};
    std::vector<v1::Entry> mine;
    absl::Status refused;
    for (const Posting& p : item.postings) {
      auto [it, fresh] = changed.try_emplace(p.person_id);
      if (fresh) it->second = accounts[p.person_id];
      v1::Account& account = it->second;
      refused = CheckBalances(account, p);
      if (!refused.ok()) break;
      mine.push_back(Append(p, checks.now_micros, account));
      w.accounts.push_back(account);
    }
    if (!refused.ok()) {
      item.result = refused;
      continue;
    }
    for (auto& [person, account] : changed) accounts[person] = std::move(account);
    for (const Posting& p : item.postings) {
      if (!p.source_id.empty()) {
        sources_in_set.emplace(static_cast<int>(p.source_kind), p.source_id, p.person_id);
      }
    }
    for (v1::Entry& e : mine) {
      w.entries.push_back(entries.size());
      entries.push_back(std::move(e));
    }
    written.push_back(std::move(w));
  }
  if (entries.empty()) {
    answer_followers();
    return absl::OkStatus();
  }

  std::set<std::string> touched;
  for (const v1::Entry& e : entries) touched.insert(e.person_id());
  std::vector<v1::Account> updates;
  for (const std::string& person : touched) updates.push_back(accounts[person]);
  const std::vector<int64_t>& sequences = checks.sequences;
  if (sequences.size() < entries.size()) {
    return absl::InternalError("the journal gave fewer sequences than entries");
  }
  for (size_t k = 0; k < entries.size(); ++k) {
    entries[k].set_sequence(sequences[k]);
    entries[k].set_entry_id(absl::StrCat(sequences[k]));
  }
  std::vector<PgLedgerStore::IdempotentRecord> records;
  for (const Written& w : written) {
    FillResponse(*w.item, entries, w);
    *w.item->ranked = entries[w.entries.back()].sequence();
    records.push_back({w.item->caller, w.item->method, w.item->key, w.item->request_hash,
                       w.item->response->SerializeAsString()});
  }
  RETURN_IF_ERROR(store_->AppendEntries(tx, entries, updates, records));
  answer_followers();
  return absl::OkStatus();
}

}  // namespace civicpoints::ledger
