// Staff set up Qingyuan West Street community: the rider stations and love corners, the venue of
// the clean-up, the five governance posts, and the points rules of Qingyuan street.
#include <google/protobuf/util/message_differencer.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "tools/demo/history_plan.h"
#include "tools/demo/loader.h"

namespace civicpoints::demo {
namespace {

namespace av1 = activity::v1;

absl::StatusOr<std::string> CreatePlace(GatewayClient* gw, const Session& staff,
                                        const PlaceSpec& spec, const std::string& community_id) {
  av1::CreatePlaceRequest req;
  *req.mutable_place() = spec.place;
  req.mutable_place()->set_community_id(community_id);
  req.set_idempotency_key(absl::StrCat("demo-place-", spec.key));
  av1::CreatePlaceResponse resp;
  RETURN_IF_ERROR(gw->Call(&ActivityStub::CreatePlace, staff.token, req, &resp));
  return resp.place().place_id();
}

}  // namespace

absl::Status DemoLoader::LoadPlaces() {
  // Places already there (retired ones too: a shop that closed stays closed) are not sent again,
  // which also spares the staff's rate limit on a repeat.
  std::map<std::pair<int, std::string>, std::string> existing;  // (kind, name) → id
  av1::ListPlacesRequest list;
  list.set_org_id(Community());
  list.set_include_retired(true);
  list.set_page_size(100);
  do {
    av1::ListPlacesResponse page;
    RETURN_IF_ERROR(gw_->Call(&ActivityStub::ListPlaces, community_.token, list, &page));
    for (const av1::Place& p : page.places()) existing[{p.kind(), p.name()}] = p.place_id();
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());
  auto place = [&](const PlaceSpec& spec, const Session& staff) -> absl::StatusOr<std::string> {
    auto it = existing.find({spec.place.kind(), spec.place.name()});
    if (it != existing.end()) return it->second;
    return CreatePlace(gw_, staff, spec, Community());
  };

  const std::vector<PlaceSpec>& places = StoryPlaces();
  place_ids_.assign(places.size(), "");
  RETURN_IF_ERROR(ForEach(static_cast<int>(places.size()), [&](int i) -> absl::Status {
    ASSIGN_OR_RETURN(place_ids_[i], place(places[i], Reviewer(i)));
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(venue_id_, place(CleanupVenue(), community_));
  return absl::OkStatus();
}

absl::Status DemoLoader::LoadPosts() {
  av1::ListPostKindsResponse kinds;
  RETURN_IF_ERROR(gw_->Call(&ActivityStub::ListPostKinds, community_.token,
                            av1::ListPostKindsRequest(), &kinds));
  for (const av1::PostKindInfo& info : kinds.kinds()) {
    av1::CreatePostRequest req;
    av1::Post* post = req.mutable_post();
    post->set_community_id(Community());
    post->set_kind(info.kind());
    post->set_title(absl::StrCat("清远西街社区", info.display_name_zh()));
    post->set_description(info.description_zh());
    post->set_seats_total(PostSeats(info.kind()));
    req.set_idempotency_key(absl::StrCat("demo-post-", av1::PostKind_Name(info.kind())));
    av1::CreatePostResponse resp;
    RETURN_IF_ERROR(gw_->Call(&ActivityStub::CreatePost, community_.token, req, &resp));
    post_ids_[info.kind()] = resp.post().post_id();
  }
  for (const RiderSpec& rider : StoryRiders()) {
    if (!post_ids_.count(rider.post_kind)) {
      return absl::FailedPreconditionError(
          absl::StrCat("ListPostKinds does not offer ", av1::PostKind_Name(rider.post_kind)));
    }
  }
  return absl::OkStatus();
}

absl::Status DemoLoader::LoadRules() {
  const av1::PointsRules wanted = DemoPointsRules(Street());
  av1::GetPointsRulesRequest get;
  get.set_org_id(Street());
  av1::GetPointsRulesResponse current;
  RETURN_IF_ERROR(gw_->Call(&ActivityStub::GetPointsRules, street_.token, get, &current));
  av1::PointsRules have = current.rules();
  for (auto* field : {"org_level", "version", "updated_by", "update_time", "etag"}) {
    have.GetReflection()->ClearField(&have, have.GetDescriptor()->FindFieldByName(field));
  }
  google::protobuf::util::MessageDifferencer same;
  same.set_repeated_field_comparison(google::protobuf::util::MessageDifferencer::AS_SET);
  if (same.Compare(have, wanted)) return absl::OkStatus();
  av1::UpdatePointsRulesRequest update;
  update.set_org_id(Street());
  *update.mutable_rules() = wanted;
  av1::UpdatePointsRulesResponse updated;
  return gw_->Call(&ActivityStub::UpdatePointsRules, street_.token, update, &updated);
}

}  // namespace civicpoints::demo
