// RiderOrders: what identity asks of rewards when a rider closes their account — that the rider's
// open orders end first (rewards' CloseRiderOrders). The seam lets identity's own tests stand in
// for rewards; GrpcRiderOrders asks the real one with identity's service token.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_RIDER_ORDERS_H_
#define CIVICPOINTS_SERVICES_IDENTITY_RIDER_ORDERS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}
namespace civicpoints::server {
class ServiceToken;
}

namespace civicpoints::identity {

class RiderOrders {
 public:
  virtual ~RiderOrders() = default;
  // Ends the rider's open orders and refuses new ones; returns how many were cancelled. Errors:
  // UNAVAILABLE when rewards cannot answer (or not yet: retry).
  virtual absl::StatusOr<int> CloseRiderOrders(const std::string& rider_id) = 0;
};

class GrpcRiderOrders final : public RiderOrders {
 public:
  // `token` outlives this.
  GrpcRiderOrders(std::shared_ptr<grpc::Channel> rewards, server::ServiceToken* token,
                  absl::Duration timeout = absl::Seconds(10));
  absl::StatusOr<int> CloseRiderOrders(const std::string& rider_id) override;

 private:
  std::shared_ptr<grpc::Channel> rewards_;
  server::ServiceToken* token_;
  absl::Duration timeout_;
};

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_RIDER_ORDERS_H_
