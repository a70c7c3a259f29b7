#include "services/ledger/ranking_names.h"

#include "civicpoints/ledger/v1/ranking.pb.h"

namespace civicpoints::ledger {

void RankingNames::Set(const std::vector<std::pair<std::string, std::string>>& names) {
  absl::MutexLock lock(&mu_);
  for (const auto& [person_id, name] : names) names_[person_id] = name;
}

std::string RankingNames::NameOf(const std::string& person_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = names_.find(person_id);
  return it == names_.end() ? std::string() : it->second;
}

void RankingNames::Fill(v1::RankingEntry& entry) const {
  absl::ReaderMutexLock lock(&mu_);
  FillLocked(entry);
}

void RankingNames::FillLocked(v1::RankingEntry& entry) const {
  auto it = names_.find(entry.person_id());
  if (it != names_.end()) entry.set_display_name(it->second);
}

size_t RankingNames::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return names_.size();
}

}  // namespace civicpoints::ledger
