// Places: rider stations (小哥驿站), love corners (爱心角) and activity venues — create, read,
// change, retire, list by org node, and the riders' nearby search.
#include <google/protobuf/util/field_mask_util.h>

#include <pqxx/pqxx>

#include <cmath>
#include <cstdio>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/text.h"
#include "common/pg/paging.h"
#include "common/pg/sql_values.h"
#include "common/status/status_macros.h"
#include "services/activity/activity_service.h"
#include "services/activity/directory.h"
#include "services/activity/pg_place_store.h"
#include "services/activity/place_hours.h"
#include "services/activity/place_index.h"

namespace civicpoints::activity {

using common::v1::ROLE_CITY_SYSTEM;
using common::v1::ROLE_COMMUNITY_STAFF;
using common::v1::ROLE_DISTRICT_ADMIN;
using common::v1::ROLE_MERCHANT;
using common::v1::ROLE_ORG_VIEWER;
using common::v1::ROLE_STATION_KEEPER;
using common::v1::ROLE_STREET_STAFF;

namespace {

constexpr int kDefaultRadius = 200;
constexpr int kDefaultSearchRadius = 3000;

// Services a list or search asks for: each known and specified.
absl::Status CheckServiceFilter(const google::protobuf::RepeatedField<int>& services,
                                absl::string_view field) {
  for (int s : services) {
    if (s == v1::PLACE_SERVICE_TYPE_UNSPECIFIED || !v1::PlaceServiceType_IsValid(s)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": service ", s, " is unspecified or unknown"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckKindFilter(const google::protobuf::RepeatedField<int>& kinds,
                             absl::string_view field) {
  for (int k : kinds) {
    if (k == v1::PLACE_KIND_UNSPECIFIED || !v1::PlaceKind_IsValid(k)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": kind ", k, " is unspecified or unknown"));
    }
  }
  return absl::OkStatus();
}

// One field of a place as CreatePlace and UpdatePlace require it.
absl::Status CheckPlaceField(const v1::Place& p, absl::string_view field) {
  if (field == "name")
    return text::CheckText(p.name(), "place.name", {.max = 64, .required = true});
  if (field == "description")
    return text::CheckText(p.description(), "place.description",
                           {.max = 1000, .lines = text::Lines::kMany});
  if (field == "address")
    return text::CheckText(p.address(), "place.address",
                           {.max = 200, .required = true, .lines = text::Lines::kMany});
  if (field == "location") {
    if (!p.has_location()) return absl::InvalidArgumentError("place.location: is required");
    return CheckPoint(p.location(), "place.location");
  }
  if (field == "community_id") {
    if (p.community_id().empty()) {
      return absl::InvalidArgumentError("place.community_id: is required");
    }
    return absl::OkStatus();
  }
  if (field == "services") {
    if (p.services_size() > 16) {
      return absl::InvalidArgumentError(
          absl::StrCat("place.services: at most 16 (got ", p.services_size(), ")"));
    }
    if (absl::Status s = CheckServiceFilter(p.services(), "place.services"); !s.ok()) return s;
    std::set<int> seen;
    for (int s : p.services()) {
      if (!seen.insert(s).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("place.services: ", v1::PlaceServiceType_Name(s), " is repeated"));
      }
    }
    return absl::OkStatus();
  }
  if (field == "opening_hours") return CheckOpeningHours(p.opening_hours(), "place.opening_hours");
  if (field == "closed_until") {
    if (p.has_closed_until() &&
        (p.closed_until().seconds() < 0 || p.closed_until().seconds() > 253402300799 ||
         p.closed_until().nanos() < 0 || p.closed_until().nanos() > 999999999)) {
      return absl::InvalidArgumentError("place.closed_until: is not a valid time");
    }
    return absl::OkStatus();
  }
  if (field == "check_in_radius_meters") {
    const int r = p.check_in_radius_meters();
    if (r != 0 && (r < 20 || r > 2000)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "place.check_in_radius_meters: must be 20–2000, or 0 for 200 (got ", r, ")"));
    }
    return absl::OkStatus();
  }
  return absl::OkStatus();  // temporarily_closed, keeper_person_id: any value
}

bool HoldsAny(const auth::Principal& who, std::initializer_list<auth::Role> roles) {
  for (auth::Role r : roles) {
    if (who.HasRole(r)) return true;
  }
  return false;
}

// Staff of any level that may manage places (who covers a node is checked separately).
bool IsPlaceStaff(const auth::Principal& who, const common::v1::OrgPath& path) {
  return Covers(who, path, {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF, ROLE_DISTRICT_ADMIN});
}

// The person who keeps a place must exist in identity (a rider, staff member or merchant).
absl::Status CheckKeeperExists(Directory& directory, const std::string& person_id) {
  if (person_id.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<RiderInfo>> people = directory.Riders({person_id});
  if (!people.ok()) {
    if (people.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(
          absl::StrCat("place.keeper_person_id: person '", person_id, "' does not exist"));
    }
    return people.status();
  }
  if (people->empty()) {
    return absl::NotFoundError(
        absl::StrCat("place.keeper_person_id: person '", person_id, "' does not exist"));
  }
  return absl::OkStatus();
}

// The community a place belongs to: it exists and is a community node.
absl::StatusOr<OrgInfo> PlaceCommunity(Directory& directory, const std::string& community_id) {
  absl::StatusOr<OrgInfo> org = directory.Org(community_id, "place.community_id");
  if (!org.ok()) return org.status();
  if (org->level != common::v1::ORG_LEVEL_COMMUNITY) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_ORG_LEVEL,
                  absl::StrCat("place.community_id: '", org->org_id, "' is a ",
                               common::v1::OrgLevel_Name(org->level), " node, not a community"),
                  {{"org_id", org->org_id}, {"level", common::v1::OrgLevel_Name(org->level)}});
  }
  return org;
}

const char* LevelColumn(common::v1::OrgLevel level) {
  switch (level) {
    case common::v1::ORG_LEVEL_DISTRICT:
      return "district_id";
    case common::v1::ORG_LEVEL_STREET:
      return "street_id";
    case common::v1::ORG_LEVEL_COMMUNITY:
      return "community_id";
    default:
      return nullptr;  // the city: everything
  }
}

std::string DoubleKey(double d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

}  // namespace

grpc::Status ActivityServiceImpl::CreatePlace(grpc::ServerContext* ctx,
                                              const v1::CreatePlaceRequest* req,
                                              v1::CreatePlaceResponse* resp) {
  return Handle(ctx, "CreatePlace", [&](const Caller& caller) -> absl::Status {
    const v1::Place& p = req->place();
    if (p.kind() == v1::PLACE_KIND_UNSPECIFIED || !v1::PlaceKind_IsValid(p.kind())) {
      return absl::InvalidArgumentError("place.kind: is unspecified or unknown");
    }
    for (const char* field :
         {"name", "description", "address", "location", "community_id", "services", "opening_hours",
          "closed_until", "check_in_radius_meters"}) {
      if (absl::Status s = CheckPlaceField(p, field); !s.ok()) return s;
    }
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    absl::StatusOr<OrgInfo> org = PlaceCommunity(*directory_, p.community_id());
    if (!org.ok()) return org.status();
    std::string keeper = p.keeper_person_id();
    if (!IsPlaceStaff(caller.who(), org->path)) {
      if (!Covers(caller.who(), org->path, {ROLE_MERCHANT})) {
        return OutsideScope(absl::StrCat("community ", org->org_id));
      }
      // A merchant registers their own love corner, in a community their role covers.
      if (p.kind() != v1::PLACE_KIND_LOVE_CORNER) {
        return Refuse(absl::StatusCode::kPermissionDenied,
                      v1::ACTIVITY_ERROR_REASON_PLACE_CHANGE_NOT_ALLOWED,
                      absl::StrCat("place.kind: a merchant may register only a love corner, not ",
                                   v1::PlaceKind_Name(p.kind())));
      }
      if (!keeper.empty() && keeper != caller.id()) {
        return Refuse(
            absl::StatusCode::kPermissionDenied, v1::ACTIVITY_ERROR_REASON_PLACE_CHANGE_NOT_ALLOWED,
            "place.keeper_person_id: a merchant registers love corners kept by themselves");
      }
      keeper = caller.id();
    } else if (absl::Status s = CheckKeeperExists(*directory_, keeper); !s.ok()) {
      return s;
    }
    return Idempotent(caller, "CreatePlace", req->idempotency_key(), *req, resp,
                      [&](pqxx::transaction_base& tx) -> absl::Status {
                        v1::Place draft = p;
                        RETURN_IF_ERROR(NormalizePoint(draft.mutable_location(), "place.location"));
                        const std::string id = NewId("pl");
                        draft.set_place_id(id);
                        draft.set_keeper_person_id(keeper);
                        if (draft.check_in_radius_meters() == 0)
                          draft.set_check_in_radius_meters(kDefaultRadius);
                        common::v1::OrgPath path = org->path;
                        path.set_community_id(org->org_id);
                        places_.Insert(tx, draft, path, caller.id());
                        pg::AfterCommit([this, id] { place_index_->Refresh(id); });
                        absl::StatusOr<v1::Place> made = places_.Load(tx, id, false);
                        if (!made.ok()) return made.status();
                        *resp->mutable_place() = *std::move(made);
                        return absl::OkStatus();
                      });
  });
}

grpc::Status ActivityServiceImpl::GetPlace(grpc::ServerContext* ctx, const v1::GetPlaceRequest* req,
                                           v1::GetPlaceResponse* resp) {
  return Handle(ctx, "GetPlace", [&](const Caller& caller) -> absl::Status {
    if (req->place_id().empty()) return absl::InvalidArgumentError("place_id: is required");
    return InReadTx("get place", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Place> p = places_.Load(tx, req->place_id(), false);
      if (!p.ok()) return p.status();
      resp->set_open_now(p->status() == v1::PLACE_STATUS_ACTIVE &&
                         PlaceOpenAt(*p, caller.now).open);
      *resp->mutable_place() = *std::move(p);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::UpdatePlace(grpc::ServerContext* ctx,
                                              const v1::UpdatePlaceRequest* req,
                                              v1::UpdatePlaceResponse* resp) {
  return Handle(ctx, "UpdatePlace", [&](const Caller& caller) -> absl::Status {
    if (req->place_id().empty()) return absl::InvalidArgumentError("place_id: is required");
    if (req->update_mask().paths().empty()) {
      return absl::InvalidArgumentError("update_mask: names no field");
    }
    static const std::set<std::string> kUpdatable = {"name",
                                                     "description",
                                                     "address",
                                                     "location",
                                                     "services",
                                                     "opening_hours",
                                                     "temporarily_closed",
                                                     "closed_until",
                                                     "check_in_radius_meters",
                                                     "community_id",
                                                     "keeper_person_id"};
    bool moves = false, rekeeps = false;
    for (const std::string& path : req->update_mask().paths()) {
      if (!kUpdatable.count(path)) {
        return absl::InvalidArgumentError(
            absl::StrCat("update_mask: '", path, "' is not a field that can be updated"));
      }
      if (absl::Status s = CheckPlaceField(req->place(), path); !s.ok()) return s;
      moves = moves || path == "community_id";
      rekeeps = rekeeps || path == "keeper_person_id";
    }
    const bool any_staff_role =
        HoldsAny(caller.who(), {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF, ROLE_DISTRICT_ADMIN});
    if ((moves || rekeeps) && !any_staff_role) {
      return Refuse(absl::StatusCode::kPermissionDenied,
                    v1::ACTIVITY_ERROR_REASON_PLACE_CHANGE_NOT_ALLOWED,
                    absl::StrCat("update_mask: a station keeper or merchant cannot change ",
                                 moves ? "community_id" : "keeper_person_id"));
    }
    // Identity is asked before the transaction (no network call while the row is locked).
    std::optional<OrgInfo> new_community;
    if (moves) {
      absl::StatusOr<OrgInfo> org = PlaceCommunity(*directory_, req->place().community_id());
      if (!org.ok()) return org.status();
      new_community = *std::move(org);
    }
    if (rekeeps) {
      if (absl::Status s = CheckKeeperExists(*directory_, req->place().keeper_person_id());
          !s.ok()) {
        return s;
      }
    }
    return InTx("update place", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Place> cur = places_.Load(tx, req->place_id(), true);
      if (!cur.ok()) return cur.status();
      const std::string what = absl::StrCat("place ", cur->place_id());
      const bool staff = IsPlaceStaff(caller.who(), cur->org_path());
      if (!staff) {
        const bool keeps = !cur->keeper_person_id().empty() &&
                           cur->keeper_person_id() == caller.id() &&
                           HoldsAny(caller.who(), {ROLE_STATION_KEEPER, ROLE_MERCHANT});
        if (!keeps) {
          if (HoldsAny(caller.who(), {ROLE_STATION_KEEPER, ROLE_MERCHANT}) && !any_staff_role) {
            return Refuse(absl::StatusCode::kPermissionDenied,
                          v1::ACTIVITY_ERROR_REASON_NOT_PLACE_KEEPER,
                          absl::StrCat(what, " is not kept by the caller"));
          }
          return OutsideScope(what);
        }
        if (moves || rekeeps) {
          return Refuse(absl::StatusCode::kPermissionDenied,
                        v1::ACTIVITY_ERROR_REASON_PLACE_CHANGE_NOT_ALLOWED,
                        "update_mask: a station keeper or merchant cannot change community_id or "
                        "keeper_person_id");
        }
      }
      if (new_community) {
        if (absl::Status s =
                CheckCovers(caller.who(), new_community->path,
                            absl::StrCat("community ", new_community->org_id),
                            {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF, ROLE_DISTRICT_ADMIN});
            !s.ok()) {
          return s;
        }
      }
      if (cur->status() == v1::PLACE_STATUS_RETIRED) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::ACTIVITY_ERROR_REASON_PLACE_RETIRED, absl::StrCat(what, " is retired"));
      }
      if (!req->etag().empty() && req->etag() != cur->etag()) {
        return Refuse(absl::StatusCode::kAborted, v1::ACTIVITY_ERROR_REASON_ETAG_MISMATCH,
                      absl::StrCat("etag: ", what, " changed since '", req->etag(), "' (now ",
                                   cur->etag(), "); read it again"));
      }
      v1::Place next = *cur;
      google::protobuf::util::FieldMaskUtil::MergeOptions merge;
      merge.set_replace_message_fields(true);
      merge.set_replace_repeated_fields(true);
      google::protobuf::util::FieldMaskUtil::MergeMessageTo(req->place(), req->update_mask(), merge,
                                                            &next);
      if (next.check_in_radius_meters() == 0) next.set_check_in_radius_meters(kDefaultRadius);
      RETURN_IF_ERROR(NormalizePoint(next.mutable_location(), "place.location"));
      OrgInfo community;
      community.org_id = cur->community_id();
      community.path = cur->org_path();
      if (new_community) community = *new_community;
      common::v1::OrgPath path = community.path;
      path.set_community_id(community.org_id);
      places_.Update(tx, next, path);
      pg::AfterCommit([this, id = cur->place_id()] { place_index_->Refresh(id); });
      absl::StatusOr<v1::Place> after = places_.Load(tx, cur->place_id(), false);
      if (!after.ok()) return after.status();
      *resp->mutable_place() = *std::move(after);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::DeletePlace(grpc::ServerContext* ctx,
                                              const v1::DeletePlaceRequest* req,
                                              v1::DeletePlaceResponse* resp) {
  return Handle(ctx, "DeletePlace", [&](const Caller& caller) -> absl::Status {
    if (req->place_id().empty()) return absl::InvalidArgumentError("place_id: is required");
    if (absl::Status s = text::CheckText(
            req->reason(), "reason", {.max = 200, .required = true, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    return InTx("retire place", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Place> cur = places_.Load(tx, req->place_id(), true);
      if (!cur.ok()) return cur.status();
      const std::string what = absl::StrCat("place ", cur->place_id());
      if (!IsPlaceStaff(caller.who(), cur->org_path())) {
        const bool keeps = !cur->keeper_person_id().empty() &&
                           cur->keeper_person_id() == caller.id() &&
                           caller.who().HasRole(ROLE_MERCHANT);
        if (!keeps) {
          if (caller.who().HasRole(ROLE_MERCHANT) &&
              !HoldsAny(caller.who(),
                        {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF, ROLE_DISTRICT_ADMIN})) {
            return Refuse(absl::StatusCode::kPermissionDenied,
                          v1::ACTIVITY_ERROR_REASON_NOT_PLACE_KEEPER,
                          absl::StrCat(what, " is not kept by the caller"));
          }
          return OutsideScope(what);
        }
      }
      if (cur->status() != v1::PLACE_STATUS_RETIRED) {
        if (auto busy = places_.ComingActivity(tx, cur->place_id(), caller.now)) {
          return Refuse(absl::StatusCode::kFailedPrecondition,
                        v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                        absl::StrCat(what, " hosts activity ", busy->first, " (", busy->second,
                                     ") that has not ended; cancel or move it first"));
        }
        places_.Retire(tx, cur->place_id(), req->reason());
        pg::AfterCommit([this, id = cur->place_id()] { place_index_->Refresh(id); });
      }
      absl::StatusOr<v1::Place> after = places_.Load(tx, cur->place_id(), false);
      if (!after.ok()) return after.status();
      *resp->mutable_place() = *std::move(after);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ListPlaces(grpc::ServerContext* ctx,
                                             const v1::ListPlacesRequest* req,
                                             v1::ListPlacesResponse* resp) {
  return Handle(ctx, "ListPlaces", [&](const Caller& caller) -> absl::Status {
    if (req->org_id().empty()) return absl::InvalidArgumentError("org_id: is required");
    absl::StatusOr<pg::Paging> paging = pg::StartPaging(*req, 3);
    if (!paging.ok()) return paging.status();
    if (absl::Status s = CheckKindFilter(req->kinds(), "kinds"); !s.ok()) return s;
    if (absl::Status s = CheckServiceFilter(req->services(), "services"); !s.ok()) return s;
    absl::StatusOr<OrgInfo> org = directory_->Org(req->org_id(), "org_id");
    if (!org.ok()) return org.status();
    const bool staff = Covers(caller.who(), org->path,
                              {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF, ROLE_DISTRICT_ADMIN,
                               ROLE_CITY_SYSTEM, ROLE_ORG_VIEWER});
    if (!staff) {
      // Keepers and merchants see their own places only.
      const bool own = HoldsAny(caller.who(), {ROLE_STATION_KEEPER, ROLE_MERCHANT}) &&
                       req->keeper_person_id() == caller.id();
      if (!own) {
        if (HoldsAny(caller.who(), {ROLE_STATION_KEEPER, ROLE_MERCHANT})) {
          return Refuse(absl::StatusCode::kPermissionDenied,
                        v1::ACTIVITY_ERROR_REASON_OUTSIDE_ORG_SCOPE,
                        "keeper_person_id: a station keeper or merchant lists only the places "
                        "they keep (set it to their own person id)");
        }
        return OutsideScope(absl::StrCat("org node ", org->org_id));
      }
    }
    const PgPlaceStore::Filter filter{.org_column = LevelColumn(org->level),
                                      .org_id = org->org_id,
                                      .kinds = {req->kinds().begin(), req->kinds().end()},
                                      .services = {req->services().begin(), req->services().end()},
                                      .include_retired = req->include_retired(),
                                      .keeper_person_id = req->keeper_person_id(),
                                      .after = paging->after,
                                      .limit = paging->size + 1};
    return InReadTx("list places", [&](pqxx::transaction_base& tx) -> absl::Status {
      std::vector<v1::Place> places = places_.List(tx, filter);
      resp->set_next_page_token(pg::TrimPage(places, *paging, [](const v1::Place& last) {
        return std::vector<std::string>{last.community_id(), last.name(), last.place_id()};
      }));
      for (v1::Place& place : places) *resp->add_places() = std::move(place);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::SearchNearbyPlaces(grpc::ServerContext* ctx,
                                                     const v1::SearchNearbyPlacesRequest* req,
                                                     v1::SearchNearbyPlacesResponse* resp) {
  return Handle(ctx, "SearchNearbyPlaces", [&](const Caller& caller) -> absl::Status {
    if (!req->has_location()) return absl::InvalidArgumentError("location: is required");
    common::v1::GeoPoint here = req->location();
    if (absl::Status s = NormalizePoint(&here, "location"); !s.ok()) return s;
    const int radius = req->radius_meters() == 0 ? kDefaultSearchRadius : req->radius_meters();
    if (radius < 1 || radius > 20000) {
      return absl::InvalidArgumentError(
          absl::StrCat("radius_meters: must be 1–20000 (got ", req->radius_meters(), ")"));
    }
    if (absl::Status s = CheckServiceFilter(req->services(), "services"); !s.ok()) return s;
    if (absl::Status s = CheckKindFilter(req->kinds(), "kinds"); !s.ok()) return s;
    absl::StatusOr<pg::Paging> paging = pg::StartPaging(*req, 2, 50);
    if (!paging.ok()) return paging.status();
    double after_distance = -1;
    std::string after_id;
    if (paging->after.size() == 2) {
      if (!absl::SimpleAtod(paging->after[0], &after_distance) || !std::isfinite(after_distance)) {
        return absl::InvalidArgumentError(
            "page_token: is not a token from a previous page of this list");
      }
      after_id = paging->after[1];
    }
    const absl::Time at = req->has_at_time() ? TimeOf(req->at_time()) : caller.now;
    std::vector<int> kinds(req->kinds().begin(), req->kinds().end());
    if (kinds.empty()) {
      // push_back, not an initializer list: GCC 12 misreads the latter's reallocation here as a
      // free of a non-heap pointer (-Wfree-nonheap-object).
      kinds.push_back(v1::PLACE_KIND_RIDER_STATION);
      kinds.push_back(v1::PLACE_KIND_LOVE_CORNER);
    }

    // The box around a circle of `reach` metres, a little wider; where it would cross a pole or
    // the antimeridian, all longitudes.
    const double lat = here.latitude(), lon = here.longitude();
    struct Box {
      double lat_min, lat_max, lon_min = -180, lon_max = 180;
    };
    const auto box_for = [&](double reach) {
      const double dlat = reach * 1.01 / 111195.08;
      Box box{lat - dlat, lat + dlat};
      if (box.lat_min > -89.9 && box.lat_max < 89.9) {
        const double widest = std::max(std::fabs(box.lat_min), std::fabs(box.lat_max)) * M_PI / 180;
        const double dlon = dlat / std::cos(widest);
        if (lon - dlon > -180 && lon + dlon < 180)
          box.lon_min = lon - dlon, box.lon_max = lon + dlon;
      }
      return box;
    };
    // Rings widen from 1 km (or twice the page's start) by four until the page fills or the
    // radius is reached, so a wide radius in a dense city reads only the nearest places.
    double reach = std::min<double>(radius, std::max(1000.0, after_distance * 2));
    Box box = box_for(reach);
    const int want = paging->size + 1;
    const int batch = std::max(64, want * 2);
    struct Hit {
      v1::NearbyPlace place;
      double distance;
    };
    std::vector<Hit> hits;
    absl::flat_hash_set<std::string> seen;
    {
      // Nearest first in batches from the in-memory index; opening hours are judged here, so a
      // batch may yield fewer hits than rows and the next batch continues after the last row
      // read (keyset on distance, id).
      for (;;) {
        absl::StatusOr<size_t> read = place_index_->Nearest(
            {.lat = lat,
             .lon = lon,
             .kinds = kinds,
             .services = {req->services().begin(), req->services().end()},
             .lon_min = box.lon_min,
             .lat_min = box.lat_min,
             .lon_max = box.lon_max,
             .lat_max = box.lat_max,
             .reach = reach,
             .after_distance = after_distance,
             .after_id = after_id,
             .limit = batch},
            [&](v1::Place p, double d) {
              after_distance = d;
              after_id = p.place_id();
              // A place another writer moved between two rings may come again.
              if (!seen.insert(p.place_id()).second) return true;
              const OpenState state = PlaceOpenAt(p, at);
              if (!state.open && !req->include_closed()) return true;
              Hit h;
              h.distance = d;
              h.place.set_distance_meters(static_cast<int32_t>(std::floor(d)));
              h.place.set_open_now(state.open);
              if (state.next_change) {
                SetTime(h.place.mutable_next_change_time(), Us(*state.next_change));
              }
              *h.place.mutable_place() = std::move(p);
              hits.push_back(std::move(h));
              return static_cast<int>(hits.size()) < want;
            });
        if (!read.ok()) return read.status();
        if (static_cast<int>(hits.size()) >= want) break;
        if (static_cast<int>(*read) < batch) {
          // Everything within `reach` has been read: widen, continuing after the last row.
          if (reach >= radius) break;
          reach = std::min<double>(radius, reach * 4);
          box = box_for(reach);
        }
      }
      const int n = std::min(static_cast<int>(hits.size()), paging->size);
      for (int i = 0; i < n; ++i) *resp->add_places() = std::move(hits[i].place);
      if (static_cast<int>(hits.size()) > paging->size) {
        const Hit& last = hits[paging->size - 1];
        resp->set_next_page_token(pg::EncodePageToken(
            paging->tag,
            {DoubleKey(last.distance), resp->places(paging->size - 1).place().place_id()}));
      }
      return absl::OkStatus();
    }
  });
}

}  // namespace civicpoints::activity
