#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/activity_service.pb.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"
#include "tools/cpctl/place_spec.h"
#include "tools/cpctl/row_importers.h"

namespace civicpoints::cpctl {

const char kPlaceColumnsHelp[] =
    "Columns (header row required, any order):\n"
    "  community   community id or code (required)\n"
    "  kind        rider-station, love-corner or activity-venue (required)\n"
    "  name        display name (required)\n"
    "  address     street address (required)\n"
    "  latitude    WGS-84 degrees, -90..90 (required)\n"
    "  longitude   WGS-84 degrees, -180..180 (required)\n"
    "  services    e.g. rest;phone-charging;drinking-water (optional)\n"
    "  hours       always, 08:00-20:00, or \"mon-fri 08:00-20:00; sat 09:00-12:00\" (optional)\n"
    "  description free text (optional)\n"
    "  radius      check-in radius in metres, 20-2000 (optional)\n"
    "  keeper_id   person id of the station keeper or merchant (optional)\n";

namespace {

namespace av1 = activity::v1;

// The column a server message is about, from the field it names ("place.location: ...").
std::string ColumnOf(absl::string_view message) {
  static const std::map<std::string, std::string> kColumns = {{"kind", "kind"},
                                                              {"name", "name"},
                                                              {"address", "address"},
                                                              {"location", "latitude"},
                                                              {"latitude", "latitude"},
                                                              {"longitude", "longitude"},
                                                              {"services", "services"},
                                                              {"opening_hours", "hours"},
                                                              {"periods", "hours"},
                                                              {"description", "description"},
                                                              {"community_id", "community"},
                                                              {"check_in_radius_meters", "radius"},
                                                              {"keeper_person_id", "keeper_id"}};
  const size_t colon = message.find(':');
  if (colon == absl::string_view::npos) return "";
  absl::string_view path = message.substr(0, colon);
  if (path.find(' ') != absl::string_view::npos) return "";
  // "place.opening_hours.periods[2].open_time": the first known component names the column.
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find_first_of(".[", start);
    if (end == absl::string_view::npos) end = path.size();
    auto it = kColumns.find(std::string(path.substr(start, end - start)));
    if (it != kColumns.end()) return it->second;
    start = path.find('.', end);
    if (start == absl::string_view::npos) break;
    ++start;
  }
  return "";
}

class PlaceRowImporter : public RowImporter {
 public:
  explicit PlaceRowImporter(Context& ctx) : ctx_(ctx) {}

  std::vector<std::string> RequiredColumns() const override {
    return {"community", "kind", "name", "address", "latitude", "longitude"};
  }
  std::vector<std::string> OptionalColumns() const override {
    return {"services", "hours", "description", "radius", "keeper_id"};
  }

  absl::Status Check(const CsvTable& t, const CsvRow& row, std::string* field) override {
    av1::Place place;
    return Build(t, row, &place, field);
  }

  absl::Status Send(const CsvTable& t, const CsvRow& row, const std::string& key,
                    absl::Time run_start, bool* created, std::string* field) override {
    av1::CreatePlaceRequest req;
    if (absl::Status s = Build(t, row, req.mutable_place(), field); !s.ok()) return s;
    const std::string community = t.Field(row, "community");
    auto it = communities_.find(community);
    if (it == communities_.end()) {
      it = communities_.emplace(community, ResolveOrgId(ctx_, community)).first;
    }
    if (!it->second.ok()) {
      *field = "community";
      // Only a definite answer is cached; a transient failure is asked again.
      absl::Status s = it->second.status();
      if (s.code() == absl::StatusCode::kUnavailable ||
          s.code() == absl::StatusCode::kResourceExhausted ||
          s.code() == absl::StatusCode::kDeadlineExceeded) {
        communities_.erase(it);
      }
      return s;
    }
    req.mutable_place()->set_community_id(*it->second);
    req.set_idempotency_key(key);
    av1::CreatePlaceResponse resp;
    absl::Status s =
        ctx_.client().Call("civicpoints.activity.v1.ActivityService.CreatePlace", req, &resp);
    if (!s.ok()) {
      *field = ColumnOf(s.message());
      if (field->empty() && s.code() == absl::StatusCode::kPermissionDenied) *field = "community";
      return s;
    }
    *created = absl::FromUnixSeconds(resp.place().create_time().seconds()) +
                   absl::Nanoseconds(resp.place().create_time().nanos()) >=
               run_start;
    return absl::OkStatus();
  }

 private:
  absl::Status Build(const CsvTable& t, const CsvRow& row, av1::Place* p, std::string* field) {
    auto fail = [&](const char* column, std::string message) {
      *field = column;
      return absl::InvalidArgumentError(std::move(message));
    };
    for (const std::string& c : RequiredColumns()) {
      if (t.Field(row, c).empty()) {
        *field = c;
        return absl::InvalidArgumentError(absl::StrCat(c, " is empty"));
      }
    }
    absl::StatusOr<av1::PlaceKind> kind = ParseEnum<av1::PlaceKind>(t.Field(row, "kind"), "kind");
    if (!kind.ok()) return fail("kind", std::string(kind.status().message()));
    p->set_kind(*kind);
    p->set_name(t.Field(row, "name"));
    p->set_address(t.Field(row, "address"));
    p->set_description(t.Field(row, "description"));
    double lat = 0, lng = 0;
    if (!absl::SimpleAtod(t.Field(row, "latitude"), &lat) || lat < -90 || lat > 90) {
      return fail("latitude", absl::StrCat("latitude: '", t.Field(row, "latitude"),
                                           "' is not a number of degrees in -90..90"));
    }
    if (!absl::SimpleAtod(t.Field(row, "longitude"), &lng) || lng < -180 || lng > 180) {
      return fail("longitude", absl::StrCat("longitude: '", t.Field(row, "longitude"),
                                            "' is not a number of degrees in -180..180"));
    }
    p->mutable_location()->set_latitude(lat);
    p->mutable_location()->set_longitude(lng);
    if (absl::Status s = ParseServices(t.Field(row, "services"), "services", p); !s.ok()) {
      return fail("services", std::string(s.message()));
    }
    if (absl::Status s = ParseHours(t.Field(row, "hours"), "hours", p); !s.ok()) {
      return fail("hours", std::string(s.message()));
    }
    if (const std::string radius = t.Field(row, "radius"); !radius.empty()) {
      int r = 0;
      if (!absl::SimpleAtoi(radius, &r) || r < 20 || r > 2000) {
        return fail("radius",
                    absl::StrCat("radius: '", radius, "' is not a whole number of metres 20-2000"));
      }
      p->set_check_in_radius_meters(r);
    }
    p->set_keeper_person_id(t.Field(row, "keeper_id"));
    return absl::OkStatus();
  }

  Context& ctx_;
  std::map<std::string, absl::StatusOr<std::string>> communities_;
};

}  // namespace

std::unique_ptr<RowImporter> NewPlaceRowImporter(Context& ctx) {
  return std::make_unique<PlaceRowImporter>(ctx);
}

}  // namespace civicpoints::cpctl
