// PgPlaceStore: the SQL of places — rider stations, love corners and venues — created, changed,
// retired, listed by org node, and read nearest first for the riders' search. Every method runs
// inside the caller's transaction. Stateless and thread-safe; a database error is thrown as pqxx's
// exception, which the transaction's runner maps.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PG_PLACE_STORE_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PG_PLACE_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/place.pb.h"
#include "civicpoints/common/v1/types.pb.h"

namespace pqxx {
class transaction_base;
}

namespace civicpoints::activity {

class PgPlaceStore {
 public:
  // The place (FOR UPDATE when `lock`). Errors: NOT_FOUND naming it.
  absl::StatusOr<v1::Place> Load(pqxx::transaction_base& tx, const std::string& place_id,
                                 bool lock) const;
  // A new place `p` (id, kind, fields and radius set) in the community at `path`.
  void Insert(pqxx::transaction_base& tx, const v1::Place& p, const common::v1::OrgPath& path,
              const std::string& creator_id) const;
  // Rewrites the place's fields, now in the community at `path` (a new version).
  void Update(pqxx::transaction_base& tx, const v1::Place& p,
              const common::v1::OrgPath& path) const;
  // The earliest activity at the place not cancelled and not ended at `now`, as {id, title}.
  std::optional<std::pair<std::string, std::string>> ComingActivity(pqxx::transaction_base& tx,
                                                                    const std::string& place_id,
                                                                    absl::Time now) const;
  // Retires the place for `reason` (it stays readable).
  void Retire(pqxx::transaction_base& tx, const std::string& place_id,
              const std::string& reason) const;

  // Places under the node whose `org_column` ("district_id", "street_id", "community_id"; nullptr
  // for the whole city) is `org_id`, by community, name and id after `after` (empty: from the
  // start), at most `limit`; of some kinds, offering all `services`, kept by a person, when given.
  struct Filter {
    const char* org_column = nullptr;
    std::string org_id;
    std::vector<int> kinds, services;
    bool include_retired = false;
    std::string keeper_person_id;
    std::vector<std::string> after;  // community id, name, place id
    int limit = 0;
  };
  std::vector<v1::Place> List(pqxx::transaction_base& tx, const Filter& filter) const;

  // A nearby search (PlaceIndex::Nearest): active places of `kinds` offering all `services`,
  // within `reach` metres of (lat, lon) and inside the box given, nearest first after
  // (after_distance, after_id), at most `limit`.
  struct Near {
    double lat = 0, lon = 0;
    std::vector<int> kinds, services;
    double lon_min = -180, lat_min = -90, lon_max = 180, lat_max = 90;
    double reach = 0;
    double after_distance = -1;
    std::string after_id;
    int limit = 0;
  };

  // A place as it stands with its change number (migration 0011), for PlaceIndex.
  struct NumberedPlace {
    v1::Place place;
    int64_t change_no = 0;
  };
  // The places (retired ones too) changed after change number `after`, in change order, at most
  // `limit`.
  std::vector<NumberedPlace> ChangedAfter(pqxx::transaction_base& tx, int64_t after,
                                          int limit) const;
  // One place with its change number, if it exists.
  std::optional<NumberedPlace> LoadNumbered(pqxx::transaction_base& tx,
                                            const std::string& place_id) const;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PG_PLACE_STORE_H_
