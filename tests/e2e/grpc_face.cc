// The gRPC face: the generated C++ stubs of the four contracts, all on one channel to the gateway.
// A table maps each method the story uses to its stub member, so a call is typed end to end.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>

#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/app/v1/app_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/e2e/face.h"

namespace civicpoints::e2e {
namespace {

namespace gp = google::protobuf;
using Invoker = std::function<grpc::Status(grpc::ClientContext*, const gp::Message&, gp::Message*)>;

template <typename Stub, typename Req, typename Resp>
Invoker Bind(Stub* stub, grpc::Status (Stub::*fn)(grpc::ClientContext*, const Req&, Resp*)) {
  return [stub, fn](grpc::ClientContext* ctx, const gp::Message& req, gp::Message* resp) {
    return (stub->*fn)(ctx, static_cast<const Req&>(req), static_cast<Resp*>(resp));
  };
}

class GrpcFace : public Face {
 public:
  explicit GrpcFace(const std::string& address)
      : channel_(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
        identity_(identity::v1::IdentityService::NewStub(channel_)),
        activity_(activity::v1::ActivityService::NewStub(channel_)),
        ledger_(ledger::v1::LedgerService::NewStub(channel_)),
        rewards_(rewards::v1::RewardsService::NewStub(channel_)),
        app_(app::v1::AppService::NewStub(channel_)) {
#define CP_BIND(stub, Service, Method)                                   \
  invokers_[Service::service_full_name() + std::string(".") + #Method] = \
      Bind(stub.get(), &Service::Stub::Method)
    using identity::v1::IdentityService;
    CP_BIND(identity_, IdentityService, GetPrivacyPolicy);
    CP_BIND(identity_, IdentityService, Login);
    CP_BIND(identity_, IdentityService, ChangePassword);
    CP_BIND(identity_, IdentityService, WhoAmI);
    CP_BIND(identity_, IdentityService, CreateOrgNode);
    CP_BIND(identity_, IdentityService, CreatePerson);
    CP_BIND(identity_, IdentityService, GrantRole);
    CP_BIND(identity_, IdentityService, RegisterRider);
    CP_BIND(identity_, IdentityService, GetCheckInCode);
    CP_BIND(identity_, IdentityService, CheckInWithCode);
    CP_BIND(identity_, IdentityService, ListMyCheckIns);
    CP_BIND(identity_, IdentityService, RequestSmsCode);
    CP_BIND(identity_, IdentityService, ResetPassword);
    CP_BIND(identity_, IdentityService, RefreshToken);
    CP_BIND(identity_, IdentityService, UpdateMyRiderProfile);
    CP_BIND(identity_, IdentityService, CloseMyAccount);
    using activity::v1::ActivityService;
    CP_BIND(activity_, ActivityService, CreatePlace);
    CP_BIND(activity_, ActivityService, CreatePost);
    CP_BIND(activity_, ActivityService, ClaimPost);
    CP_BIND(activity_, ActivityService, ApprovePostClaim);
    CP_BIND(activity_, ActivityService, CreateActivity);
    CP_BIND(activity_, ActivityService, GetActivity);
    CP_BIND(activity_, ActivityService, EnrolInActivity);
    CP_BIND(activity_, ActivityService, GetCheckInCode);
    CP_BIND(activity_, ActivityService, CheckInToActivity);
    CP_BIND(activity_, ActivityService, ConfirmAttendance);
    CP_BIND(activity_, ActivityService, SubmitServiceRecord);
    CP_BIND(activity_, ActivityService, VerifyServiceRecord);
    CP_BIND(activity_, ActivityService, GetProblemCase);
    CP_BIND(activity_, ActivityService, AssignProblemCase);
    CP_BIND(activity_, ActivityService, RecordProblemCaseProgress);
    CP_BIND(activity_, ActivityService, CloseProblemCase);
    using ledger::v1::LedgerService;
    CP_BIND(ledger_, LedgerService, GetBalance);
    CP_BIND(ledger_, LedgerService, GetRank);
    CP_BIND(ledger_, LedgerService, GetTopRanking);
    using rewards::v1::RewardsService;
    CP_BIND(rewards_, RewardsService, CreateGift);
    CP_BIND(rewards_, RewardsService, AddStationStock);
    CP_BIND(rewards_, RewardsService, ListStationStock);
    CP_BIND(rewards_, RewardsService, CreateExchangeWindow);
    CP_BIND(rewards_, RewardsService, OpenExchangeWindow);
    CP_BIND(rewards_, RewardsService, CreateRedemption);
    CP_BIND(rewards_, RewardsService, GetRedemption);
    CP_BIND(rewards_, RewardsService, FulfilRedemption);
    using app::v1::AppService;
    CP_BIND(app_, AppService, GetMyHome);
    CP_BIND(app_, AppService, ListLabels);
#undef CP_BIND
  }

  std::string name() const override { return "grpc"; }
  int last_http_status() const override { return 0; }

  std::string last_reason() const override {
    google::rpc::Status rich;
    if (last_details_.empty() || !rich.ParseFromString(last_details_)) return "";
    for (const gp::Any& detail : rich.details()) {
      google::rpc::ErrorInfo info;
      if (detail.UnpackTo(&info)) return info.reason();
    }
    return "";
  }

  LocalizedText last_localized() const override {
    google::rpc::Status rich;
    if (last_details_.empty() || !rich.ParseFromString(last_details_)) return {};
    for (const gp::Any& detail : rich.details()) {
      google::rpc::LocalizedMessage localized;
      if (detail.UnpackTo(&localized)) return {localized.locale(), localized.message()};
    }
    return {};
  }

  void set_accept_language(std::string value) override { accept_language_ = std::move(value); }

  grpc::Status Call(const std::string& method, const std::string& token, const gp::Message& request,
                    gp::Message* response) override {
    auto it = invokers_.find(method);
    if (it == invokers_.end()) {
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          method + " is not bound in the test's gRPC face (grpc_face.cc)");
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    if (!accept_language_.empty()) ctx.AddMetadata("accept-language", accept_language_);
    grpc::Status status = it->second(&ctx, request, response);
    last_details_ = status.error_details();
    return status;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<identity::v1::IdentityService::Stub> identity_;
  std::unique_ptr<activity::v1::ActivityService::Stub> activity_;
  std::unique_ptr<ledger::v1::LedgerService::Stub> ledger_;
  std::unique_ptr<rewards::v1::RewardsService::Stub> rewards_;
  std::unique_ptr<app::v1::AppService::Stub> app_;
  std::map<std::string, Invoker> invokers_;
  std::string last_details_;
  std::string accept_language_;
};

}  // namespace

std::unique_ptr<Face> MakeGrpcFace(const std::string& address) {
  return std::make_unique<GrpcFace>(address);
}

}  // namespace civicpoints::e2e
