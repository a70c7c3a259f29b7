// Place fields as people write them, shared by `place create` and `import places`: the list of
// services ("rest;phone-charging") and opening hours ("always", "08:00-20:00" every day, or
// "mon-fri 08:00-20:00; sat 09:00-12:00").
#ifndef CIVICPOINTS_TOOLS_CPCTL_PLACE_SPEC_H_
#define CIVICPOINTS_TOOLS_CPCTL_PLACE_SPEC_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "civicpoints/activity/v1/place.pb.h"

namespace civicpoints::cpctl {

// Adds the services named in `text` (separated by ';', ',' or '|') to `place`. INVALID_ARGUMENT
// naming `what` and the bad name.
absl::Status ParseServices(absl::string_view text, absl::string_view what,
                           activity::v1::Place* place);
// Sets `place`'s opening hours from `text` ("" leaves them unset). INVALID_ARGUMENT naming `what`.
absl::Status ParseHours(absl::string_view text, absl::string_view what, activity::v1::Place* place);

extern const char kHoursHelp[];

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_PLACE_SPEC_H_
