// The names riders appear under on rankings ("王*军", a nickname, "小哥 #0012"), as identity makes
// them from each rider's choice (identity/v1/person.proto RankingNameChoice). The ledger keeps them
// in memory beside its rankings, so that a ranking read fills them in without asking identity or
// PostgreSQL; RankingNameFeed (ranking_name_feed.h) keeps them up with identity's feed.
// Thread-safe.
#ifndef CIVICPOINTS_SERVICES_LEDGER_RANKING_NAMES_H_
#define CIVICPOINTS_SERVICES_LEDGER_RANKING_NAMES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace civicpoints::ledger::v1 {
class RankingEntry;
}

namespace civicpoints::ledger {

class RankingNames {
 public:
  // Sets each rider's name (a later pair for the same rider wins).
  void Set(const std::vector<std::pair<std::string, std::string>>& names);
  // The rider's name; empty when identity's feed has not named the rider yet.
  std::string NameOf(const std::string& person_id) const;
  // Sets display_name of each entry from its person_id (an unknown rider's stays empty).
  template <typename Entries>
  void Fill(Entries& entries) const {
    absl::ReaderMutexLock lock(&mu_);
    for (v1::RankingEntry& e : entries) FillLocked(e);
  }
  void Fill(v1::RankingEntry& entry) const;
  size_t size() const;

 private:
  void FillLocked(v1::RankingEntry& entry) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> names_ ABSL_GUARDED_BY(mu_);
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_RANKING_NAMES_H_
