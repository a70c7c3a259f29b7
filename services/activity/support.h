// Helpers every activity method file uses: the caller, org scope, refusals with an
// ActivityErrorReason, ids, times (Asia/Shanghai days), input checks and distances.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_SUPPORT_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_SUPPORT_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/errors.pb.h"
#include "civicpoints/common/v1/types.pb.h"
#include "common/auth/principal.h"
#include "common/base/ids.h"
#include "common/base/text.h"
#include "common/base/time_units.h"
#include "common/status/refusal.h"

namespace google::protobuf {
class Message;
class Timestamp;
}  // namespace google::protobuf

namespace civicpoints::activity {

using Reason = v1::ActivityErrorReason;

// Who is calling, and the one "now" a call uses throughout.
struct Caller {
  const auth::Principal* principal = nullptr;
  absl::Time now;
  const auth::Principal& who() const { return *principal; }
  const std::string& id() const { return principal->subject; }
  bool is_rider() const;
  // Holds any role but rider (staff, admin, city system, internal service).
  bool is_staff() const;
  bool is_city_system() const;
  bool is_internal() const;
};

// Refusals carry an ActivityErrorReason (common/status/refusal.h): "CHECK_IN_CODE_WRONG" in domain
// "activity.civicpoints", so clients can branch without parsing messages.
using civicpoints::Refuse;

// Whether one of the caller's grants of `roles` (any non-rider role when empty) sits at the city
// root or at a node on `path` (its district, street or community). Internal services cover all.
bool Covers(const auth::Principal& who, const common::v1::OrgPath& path,
            std::initializer_list<auth::Role> roles = {});
// OK when Covers; else PERMISSION_DENIED (OUTSIDE_ORG_SCOPE) naming `what`.
absl::Status CheckCovers(const auth::Principal& who, const common::v1::OrgPath& path,
                         absl::string_view what, std::initializer_list<auth::Role> roles = {});

// PERMISSION_DENIED (OUTSIDE_ORG_SCOPE) naming `what`, for a caller whose checks all failed.
absl::Status OutsideScope(absl::string_view what);

// Times (common/base/time_units.h).
using times::FromUs;
using times::SetTime;
using times::Shanghai;
using times::ShanghaiDay;
using times::TimeOf;
using times::Us;
// Checks a position and converts it to WGS-84 in place (its datum cleared), so every distance,
// geofence and stored position is WGS-84. INVALID_ARGUMENT (COORDINATES_OUT_OF_RANGE) naming
// `field` for a point off the globe (or the unset 0,0, which is in the Gulf of Guinea, not in a
// city), or for a datum not in GeoDatum.
absl::Status NormalizePoint(common::v1::GeoPoint* point, absl::string_view field);
// The same check without keeping the conversion.
absl::Status CheckPoint(const common::v1::GeoPoint& point, absl::string_view field);

// Great-circle distance in metres.
double DistanceMeters(double lat1, double lon1, double lat2, double lon2);

// Text of a path for messages: "district/street/community".
std::string PathText(const common::v1::OrgPath& path);

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_SUPPORT_H_
