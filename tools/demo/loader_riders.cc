// The 56 riders register, ask to check in at Qingyuan West Street community (社区报到), which the
// community worker approves, and each claims a governance post, which the worker approves too.
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "tools/demo/loader.h"

namespace civicpoints::demo {
namespace {

namespace av1 = activity::v1;
namespace iv1 = identity::v1;

// Riders whose home community is `community_id`, by masked phone.
absl::StatusOr<std::map<std::string, iv1::Person>> CheckedInRiders(
    GatewayClient* gw, const Session& staff, const std::string& community_id) {
  std::map<std::string, iv1::Person> out;
  iv1::ListPeopleRequest req;
  req.set_org_id(community_id);
  req.add_roles(common::v1::ROLE_RIDER);
  req.set_page_size(100);
  do {
    iv1::ListPeopleResponse page;
    RETURN_IF_ERROR(gw->Call(&IdentityStub::ListPeople, staff.token, req, &page));
    for (const iv1::Person& p : page.people()) {
      if (p.rider().home_community().community_id() == community_id) out[p.phone_masked()] = p;
    }
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

std::string Masked(const std::string& phone) {
  return absl::StrCat(phone.substr(0, 3), "****", phone.substr(7));
}

}  // namespace

absl::Status DemoLoader::LoadRiders() {
  const std::vector<RiderSpec>& riders = StoryRiders();
  rider_ids_.assign(riders.size(), "");
  ASSIGN_OR_RETURN(auto present, CheckedInRiders(gw_, community_, Community()));
  iv1::GetPrivacyPolicyResponse policy;
  RETURN_IF_ERROR(
      gw_->Call(&IdentityStub::GetPrivacyPolicy, "", iv1::GetPrivacyPolicyRequest(), &policy));
  iv1::RiderConsent consent;
  consent.set_policy_version(policy.policy_version());
  for (const iv1::PolicyPurpose& p : policy.purposes()) consent.add_purposes(p.purpose());

  return ForEach(static_cast<int>(riders.size()), [&](int i) -> absl::Status {
    const RiderSpec& rider = riders[i];
    auto it = present.find(Masked(rider.phone));
    if (it != present.end() && it->second.display_name() == rider.display_name) {
      rider_ids_[i] = it->second.person_id();
      return absl::OkStatus();
    }
    iv1::RegisterRiderRequest reg;
    reg.set_idempotency_key(absl::StrCat("demo-rider-", rider.phone));
    reg.set_phone(rider.phone);
    reg.set_password(opt_.rider_password);
    reg.set_display_name(rider.display_name);
    *reg.add_platform_accounts() = rider.platform;
    *reg.mutable_consent() = consent;
    reg.set_device_name("cp_demo");
    iv1::RegisterRiderResponse registered;
    RETURN_IF_ERROR(gw_->Call(&IdentityStub::RegisterRider, "", reg, &registered));
    rider_ids_[i] = registered.person().person_id();
    const std::string token = registered.tokens().access_token();
    {
      absl::MutexLock lock(&mu_);
      rider_tokens_[i] = token;
    }
    iv1::RequestCheckInRequest ask;
    ask.set_idempotency_key(absl::StrCat("demo-check-in-", rider.phone));
    ask.set_community_id(Community());
    ask.set_note("向清远西街社区报到，愿意参与社区治理。");
    iv1::RequestCheckInResponse asked;
    absl::Status requested = gw_->Call(&IdentityStub::RequestCheckIn, token, ask, &asked);
    if (requested.code() == absl::StatusCode::kAlreadyExists) return absl::OkStatus();  // home
    RETURN_IF_ERROR(requested);
    iv1::ApproveCheckInRequest approve;
    approve.set_check_in_id(asked.check_in().check_in_id());
    iv1::ApproveCheckInResponse approved;
    return gw_->Call(&IdentityStub::ApproveCheckIn, community_.token, approve, &approved);
  });
}

absl::Status DemoLoader::LoadClaims() {
  std::set<std::string> holding;
  av1::ListPostClaimsRequest list;
  list.set_post_id("-");
  list.set_org_id(Community());
  list.set_status(av1::POST_CLAIM_STATUS_APPROVED);
  list.set_page_size(100);
  do {
    av1::ListPostClaimsResponse page;
    RETURN_IF_ERROR(gw_->Call(&ActivityStub::ListPostClaims, community_.token, list, &page));
    for (const av1::PostClaim& c : page.claims()) holding.insert(c.rider_id());
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());

  const std::vector<RiderSpec>& riders = StoryRiders();
  return ForEach(static_cast<int>(riders.size()), [&](int i) -> absl::Status {
    if (holding.count(rider_ids_[i])) return absl::OkStatus();
    const std::string& post_id = post_ids_.at(riders[i].post_kind);
    ASSIGN_OR_RETURN(std::string token, RiderToken(i));
    av1::ClaimPostRequest claim;
    claim.set_post_id(post_id);
    claim.set_note("小哥进社区，服务换积分。");
    claim.set_idempotency_key(absl::StrCat("demo-claim-", riders[i].phone));
    av1::ClaimPostResponse claimed;
    absl::Status s = gw_->Call(&ActivityStub::ClaimPost, token, claim, &claimed);
    std::string claim_id = claimed.claim().claim_id();
    if (s.code() == absl::StatusCode::kAlreadyExists) {  // claimed before under another key
      av1::ListPostClaimsRequest mine;
      mine.set_post_id(post_id);
      mine.set_rider_id(rider_ids_[i]);
      mine.set_status(av1::POST_CLAIM_STATUS_PENDING);
      av1::ListPostClaimsResponse found;
      RETURN_IF_ERROR(gw_->Call(&ActivityStub::ListPostClaims, community_.token, mine, &found));
      if (found.claims().empty()) return absl::OkStatus();  // approved meanwhile
      claim_id = found.claims(0).claim_id();
    } else if (!s.ok()) {
      return s;
    }
    av1::ApprovePostClaimRequest approve;
    approve.set_post_id(post_id);
    approve.set_claim_id(claim_id);
    av1::ApprovePostClaimResponse approved;
    return gw_->Call(&ActivityStub::ApprovePostClaim, Reviewer(i).token, approve, &approved);
  });
}

absl::StatusOr<std::string> DemoLoader::RiderToken(int index) {
  {
    absl::MutexLock lock(&mu_);
    auto it = rider_tokens_.find(index);
    if (it != rider_tokens_.end()) return it->second;
  }
  iv1::LoginRequest req;
  req.set_phone(StoryRiders()[index].phone);
  req.set_password(opt_.rider_password);
  req.set_device_name("cp_demo");
  iv1::LoginResponse resp;
  RETURN_IF_ERROR(gw_->Call(&IdentityStub::Login, "", req, &resp));
  absl::MutexLock lock(&mu_);
  rider_tokens_[index] = resp.tokens().access_token();
  return resp.tokens().access_token();
}

}  // namespace civicpoints::demo
