#include "services/ledger/entry_hash.h"

#include <sodium.h>

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "common/base/time_units.h"
#include "services/ledger/ledger_support.h"

namespace civicpoints::ledger {

namespace {

class FieldHasher {
 public:
  explicit FieldHasher(const std::string& prev_hash) {
    crypto_hash_sha256_init(&state_);
    Bytes(prev_hash);
  }
  void Text(const std::string& f) {
    // PostgreSQL's length() of UTF-8 text counts characters, not bytes.
    const std::string prefix = absl::StrCat(text::CountChars(f), ":");
    Bytes(prefix);
    Bytes(f);
  }
  void Number(int64_t v) { Text(absl::StrCat(v)); }
  std::string Finish() {
    std::string out(crypto_hash_sha256_BYTES, '\0');
    crypto_hash_sha256_final(&state_, reinterpret_cast<unsigned char*>(out.data()));
    return out;
  }

 private:
  void Bytes(const std::string& b) {
    crypto_hash_sha256_update(&state_, reinterpret_cast<const unsigned char*>(b.data()), b.size());
  }
  crypto_hash_sha256_state state_;
};

}  // namespace

std::string EntryHash(const v1::Entry& e) {
  // The order and spelling of entry_hash()'s field list.
  FieldHasher h(e.prev_hash());
  h.Text(e.person_id());
  h.Number(e.account_sequence());
  h.Number(e.kind());
  h.Number(e.amount());
  h.Number(e.available_delta());
  h.Number(e.held_delta());
  h.Number(e.earned_delta());
  h.Number(e.available_after());
  h.Number(e.held_after());
  h.Number(e.source_kind());
  h.Text(e.source_id());
  h.Text(e.points_rule_id());
  h.Text(e.verified_by_person_id());
  h.Text(e.org_path().district_id());
  h.Text(e.org_path().street_id());
  h.Text(e.org_path().community_id());
  h.Text(e.reason());
  h.Text(e.actor_id());
  h.Text(e.order_id());
  h.Text(e.reversed_entry_id());
  h.Text(e.bulk_award_id());
  h.Number(times::UsOf(e.occur_time()));
  h.Number(times::UsOf(e.create_time()));
  return h.Finish();
}

}  // namespace civicpoints::ledger
