#include "services/activity/support.h"

#include <sodium.h>

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/geo_datum.h"
#include "common/pg/paging.h"
#include "common/status/grpc_status.h"
#include "google/protobuf/timestamp.pb.h"

namespace civicpoints::activity {

using common::v1::ROLE_CITY_SYSTEM;
using common::v1::ROLE_INTERNAL_SERVICE;
using common::v1::ROLE_RIDER;

bool Caller::is_rider() const { return principal->HasRole(ROLE_RIDER); }
bool Caller::is_staff() const {
  return std::any_of(principal->roles.begin(), principal->roles.end(),
                     [](const auth::RoleGrant& g) { return g.role != ROLE_RIDER; });
}
bool Caller::is_city_system() const { return principal->HasRole(ROLE_CITY_SYSTEM); }
bool Caller::is_internal() const { return principal->HasRole(ROLE_INTERNAL_SERVICE); }

bool Covers(const auth::Principal& who, const common::v1::OrgPath& path,
            std::initializer_list<auth::Role> roles) {
  for (const auth::RoleGrant& g : who.roles) {
    if (g.role == ROLE_INTERNAL_SERVICE) return true;
    if (g.role == ROLE_RIDER) continue;
    if (roles.size() > 0 && std::find(roles.begin(), roles.end(), g.role) == roles.end()) continue;
    if (g.org_id.empty() || g.org_id == "root") return true;
    if (g.org_id == path.district_id() || g.org_id == path.street_id() ||
        (!path.community_id().empty() && g.org_id == path.community_id())) {
      return true;
    }
  }
  return false;
}

absl::Status OutsideScope(absl::string_view what) {
  return Refuse(absl::StatusCode::kPermissionDenied, v1::ACTIVITY_ERROR_REASON_OUTSIDE_ORG_SCOPE,
                absl::StrCat(what, " is outside the org nodes the caller's roles cover"));
}

absl::Status CheckCovers(const auth::Principal& who, const common::v1::OrgPath& path,
                         absl::string_view what, std::initializer_list<auth::Role> roles) {
  if (Covers(who, path, roles)) return absl::OkStatus();
  return OutsideScope(what);
}

absl::Status NormalizePoint(common::v1::GeoPoint* point, absl::string_view field) {
  const double lat = point->latitude(), lon = point->longitude();
  if (!std::isfinite(lat) || !std::isfinite(lon) || lat < -90 || lat > 90 || lon < -180 ||
      lon > 180 || (lat == 0 && lon == 0)) {
    return Refuse(absl::StatusCode::kInvalidArgument,
                  v1::ACTIVITY_ERROR_REASON_COORDINATES_OUT_OF_RANGE,
                  absl::StrCat(field,
                               ": latitude must be within ±90 and longitude within ±180 "
                               "(got ",
                               lat, ", ", lon, ")"));
  }
  geo::Datum datum = geo::Datum::kWgs84;
  switch (point->datum()) {
    case common::v1::GEO_DATUM_UNSPECIFIED:
    case common::v1::GEO_DATUM_WGS84:
      break;
    case common::v1::GEO_DATUM_GCJ02:
      datum = geo::Datum::kGcj02;
      break;
    case common::v1::GEO_DATUM_BD09:
      datum = geo::Datum::kBd09;
      break;
    default:
      return Refuse(absl::StatusCode::kInvalidArgument,
                    v1::ACTIVITY_ERROR_REASON_COORDINATES_OUT_OF_RANGE,
                    absl::StrCat(field, ".datum: ", static_cast<int>(point->datum()),
                                 " is not a datum (GEO_DATUM_WGS84, GEO_DATUM_GCJ02 or "
                                 "GEO_DATUM_BD09)"));
  }
  const geo::LatLon wgs = geo::ToWgs84({lat, lon}, datum);
  point->set_latitude(wgs.lat);
  point->set_longitude(wgs.lon);
  point->clear_datum();
  return absl::OkStatus();
}

absl::Status CheckPoint(const common::v1::GeoPoint& point, absl::string_view field) {
  common::v1::GeoPoint copy = point;
  return NormalizePoint(&copy, field);
}

double DistanceMeters(double lat1, double lon1, double lat2, double lon2) {
  return geo::DistanceMeters({lat1, lon1}, {lat2, lon2});
}

std::string PathText(const common::v1::OrgPath& path) {
  std::vector<std::string> parts;
  for (const std::string* p : {&path.district_id(), &path.street_id(), &path.community_id()}) {
    if (!p->empty()) parts.push_back(*p);
  }
  return absl::StrJoin(parts, "/");
}

}  // namespace civicpoints::activity
