// Feed cursors: the opaque text a subscriber saves to resume. Today "e1_<seq>", the feed position
// just after an event; the prefix leaves room to change the form without breaking saved cursors.
#ifndef CIVICPOINTS_SERVICES_EVENTS_CURSOR_H_
#define CIVICPOINTS_SERVICES_EVENTS_CURSOR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace civicpoints::events {

std::string EncodeCursor(int64_t seq);

// The position named by `cursor`. Errors: INVALID_ARGUMENT naming `field` when it is not a cursor.
absl::StatusOr<int64_t> DecodeCursor(absl::string_view cursor, absl::string_view field);

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_CURSOR_H_
