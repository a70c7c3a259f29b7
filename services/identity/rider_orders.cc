#include "services/identity/rider_orders.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/server/service_token.h"

namespace civicpoints::identity {

GrpcRiderOrders::GrpcRiderOrders(std::shared_ptr<grpc::Channel> rewards,
                                 server::ServiceToken* token, absl::Duration timeout)
    : rewards_(std::move(rewards)), token_(token), timeout_(timeout) {}

absl::StatusOr<int> GrpcRiderOrders::CloseRiderOrders(const std::string& rider_id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  if (absl::Status s = server::AttachServiceToken(*token_, ctx); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("no token to ask rewards with: ", s.message()));
  }
  rewards::v1::CloseRiderOrdersRequest req;
  req.set_rider_id(rider_id);
  rewards::v1::CloseRiderOrdersResponse resp;
  grpc::Status s =
      rewards::v1::RewardsService::NewStub(rewards_)->CloseRiderOrders(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("rewards could not end the rider's orders, so nothing was closed; retry: ",
                     s.error_message()));
  }
  return resp.cancelled_size();
}

}  // namespace civicpoints::identity
