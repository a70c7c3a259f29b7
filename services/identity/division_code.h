// The statistical division code (统计用区划代码) an org node may carry, so city systems can map
// their own ids onto the tree: 12 digits, the province and prefecture in the first four, the
// county (our district) in the next two, the township (street) in three and the village-level
// unit (community) in the last three; the digits below a node's own level are zeros.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_DIVISION_CODE_H_
#define CIVICPOINTS_SERVICES_IDENTITY_DIVISION_CODE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "civicpoints/common/v1/types.pb.h"

namespace civicpoints::identity {

// OK when `code` is 12 ASCII digits, the form of every division code; else INVALID_ARGUMENT
// naming `field`, with `example`.
absl::Status CheckDivisionCodeForm(absl::string_view code, absl::string_view field,
                                   absl::string_view example = "140213001000");

// OK when `code` is empty (no code) or a well-formed code for a node at `level`: 12 digits, the
// node's own part not all zeros, every part below it zeros. Errors: INVALID_ARGUMENT naming
// `field` and what is wrong, with an example of the level's form.
absl::Status CheckDivisionCode(absl::string_view code, common::v1::OrgLevel level,
                               absl::string_view field);

// The digits a code of a node at `level` shares with every code below it (4 for the city, 6 for
// a district, 9 for a street, all 12 for a community).
absl::string_view DivisionCodePrefix(absl::string_view code, common::v1::OrgLevel level);

// OK when `child`'s code (a node below one at `parent_level`, its nearest ancestor with a code)
// starts with `parent`'s DivisionCodePrefix, or either is empty. Errors: FAILED_PRECONDITION naming
// `field`, both codes and the prefix expected.
absl::Status CheckDivisionCodeUnder(absl::string_view child, absl::string_view parent,
                                    common::v1::OrgLevel parent_level, absl::string_view field);

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_DIVISION_CODE_H_
