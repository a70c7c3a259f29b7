// The name a rider appears under on rankings (identity/v1/person.proto RankingNameChoice): made
// here from what identity holds, and followed by the ledger through ListRankingNames.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_RANKING_NAME_H_
#define CIVICPOINTS_SERVICES_IDENTITY_RANKING_NAME_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "civicpoints/identity/v1/person.pb.h"

namespace civicpoints::identity {

// What a rider's ranking name is made of.
struct RankingNameParts {
  std::string display_name;
  v1::RankingNameChoice choice = v1::RANKING_NAME_CHOICE_MASKED_NAME;
  std::string nickname;
  int64_t rider_number = 0;
  v1::PersonStatus status = v1::PERSON_STATUS_ACTIVE;
};

// "王*军" for "王建军", "欧**娜" for "欧阳娜娜", "李*" for "李四": the first and last characters
// with stars between (a name of one or two characters keeps only its first).
std::string MaskedName(absl::string_view display_name);

// "小哥 #0012": the rider's number, at least four digits.
std::string AnonymousName(int64_t rider_number);

// The name the rider's choice gives; a closed account, or a nickname choice without a nickname,
// gives the anonymous form.
std::string RankingNameOf(const RankingNameParts& parts);

// OK when `nickname` is 2–12 characters of Chinese characters (CJK unified ideographs), Latin
// letters, digits, single spaces between them and "_-.·". Errors: INVALID_ARGUMENT naming
// nickname and what is wrong.
absl::Status CheckNickname(absl::string_view nickname);

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_RANKING_NAME_H_
