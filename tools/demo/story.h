// The story of ../shared/SEED-STORY.md as data: the org tree it names, the demo's staff and
// riders, the rider stations and love corners of Qingyuan street, the gifts of the first exchange,
// and how many points each rider earned. Pure data and pure functions (no I/O), so the figures
// the demo must show are checked by a unit test before the loader ever runs.
#ifndef CIVICPOINTS_TOOLS_DEMO_STORY_H_
#define CIVICPOINTS_TOOLS_DEMO_STORY_H_

#include <string>
#include <vector>

#include "civicpoints/activity/v1/place.pb.h"
#include "civicpoints/activity/v1/post.pb.h"
#include "civicpoints/common/v1/role.pb.h"
#include "civicpoints/common/v1/types.pb.h"
#include "civicpoints/identity/v1/person.pb.h"
#include "civicpoints/rewards/v1/gift.pb.h"

namespace civicpoints::demo {

// One org node the story names. `parent_code` is empty for a district (its parent is the root).
struct OrgNodeSpec {
  std::string code;
  std::string name;
  common::v1::OrgLevel level;
  std::string parent_code;
  std::string division_code = "";  // the statistical division code, where the demo knows it
};

// Districts first, then streets, then communities (each after its parent), then departments.
const std::vector<OrgNodeSpec>& StoryOrgTree();

// Codes of the nodes the demo runs in.
inline constexpr char kQingyuanStreetCode[] = "dt-pc-qingyuan";
inline constexpr char kQingyuanWestCode[] = "dt-qy-qingyuanxijie";
// 清远街道's comprehensive law-enforcement team, the department its problem cases go to.
inline constexpr char kQingyuanTeamCode[] = "dt-qy-zhifadui";

// A staff account the loader creates and prints.
struct StaffSpec {
  std::string phone;
  std::string display_name;
  common::v1::Role role;
  std::string org_code;
  std::string initial_password;  // what CreatePerson sets; changed at first login
  std::string title;             // what the printed account list calls them
};
const std::vector<StaffSpec>& StoryStaff();

// A rider: who, which post they hold, how many points the story's history gives them, and whether
// they were among the riders of the clean-up and garbage-sorting promotion.
struct RiderSpec {
  int index = 0;  // 0-based; rider 0 is the leader
  std::string phone;
  std::string display_name;
  identity::v1::PlatformAccount platform;
  activity::v1::PostKind post_kind = activity::v1::POST_KIND_UNSPECIFIED;
  int64_t points = 0;
  bool in_cleanup = false;
};
inline constexpr int kRiderCount = 56;
inline constexpr int64_t kLeaderPoints = 109;
inline constexpr int kExchangeTopN = 15;
// Reports riders sent today that community staff have not reviewed yet: the dashboard's review
// backlog (a district official sees it as "<5").
inline constexpr int kPendingReports = 3;
const std::vector<RiderSpec>& StoryRiders();

// The five governance posts of the community, seats per kind.
int PostSeats(activity::v1::PostKind kind);

// Rider stations (9) and love corners (137, 107 on the demonstration street 清远西街), all in
// Qingyuan West Street community, with names, addresses, coordinates, services and hours.
// `place.community_id` is left empty for the loader to fill.
struct PlaceSpec {
  std::string key;  // stable suffix of the idempotency key
  activity::v1::Place place;
  bool on_demonstration_street = false;
};
const std::vector<PlaceSpec>& StoryPlaces();
inline constexpr int kStationCount = 9;
inline constexpr int kLoveCornerCount = 137;
inline constexpr int kDemonstrationStreetCorners = 107;

// The venue of the clean-up (大西街一号小区), an activity venue in the community.
PlaceSpec CleanupVenue();

// The gifts of the first exchange, with the stock delivered to the main station.
struct GiftSpec {
  std::string key;
  std::string name;
  std::string description;
  rewards::v1::GiftCategory category;
  int64_t points_cost;
  int64_t stock;
};
const std::vector<GiftSpec>& StoryGifts();

}  // namespace civicpoints::demo

#endif  // CIVICPOINTS_TOOLS_DEMO_STORY_H_
