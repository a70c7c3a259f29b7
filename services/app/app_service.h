// The app service's handler (app_service.proto): GetMyHome for the calling rider, gathered with
// the rider's own token; ListLabels from the built-in label catalogue.
#ifndef CIVICPOINTS_SERVICES_APP_APP_SERVICE_H_
#define CIVICPOINTS_SERVICES_APP_APP_SERVICE_H_

#include "civicpoints/app/v1/app_service.grpc.pb.h"
#include "services/app/home_sources.h"

namespace civicpoints::auth {
class Authorizer;
}

namespace civicpoints::app {

class AppServiceImpl final : public v1::AppService::Service {
 public:
  // Both outlive the service.
  AppServiceImpl(const auth::Authorizer* authorizer, HomeSources* home);

  grpc::Status GetMyHome(grpc::ServerContext* ctx, const v1::GetMyHomeRequest* req,
                         v1::GetMyHomeResponse* resp) override;
  grpc::Status ListLabels(grpc::ServerContext* ctx, const v1::ListLabelsRequest* req,
                          v1::ListLabelsResponse* resp) override;

 private:
  const auth::Authorizer* authorizer_;
  HomeSources* home_;
};

}  // namespace civicpoints::app

#endif  // CIVICPOINTS_SERVICES_APP_APP_SERVICE_H_
