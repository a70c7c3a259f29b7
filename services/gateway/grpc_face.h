// GrpcFace: the gateway's gRPC face. A generic service that takes every call the host's own
// services do not (so any method of the four contracts), admits it through the Gatekeeper and
// forwards the request bytes unchanged to the backend, answering with the backend's bytes,
// status, details and metadata. Unknown methods answer UNIMPLEMENTED. The caller's deadline and
// request id go downstream; a caller that cancels cancels the backend call. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_GRPC_FACE_H_
#define CIVICPOINTS_SERVICES_GATEWAY_GRPC_FACE_H_

#include <grpcpp/generic/async_generic_service.h>

#include "services/gateway/call_log.h"
#include "services/gateway/client_address.h"
#include "services/gateway/forwarder.h"
#include "services/gateway/gatekeeper.h"
#include "services/gateway/route_table.h"

namespace civicpoints::gateway {

class GrpcFace final : public grpc::CallbackGenericService {
 public:
  // All pointers must outlive the face. `proxies` (may be null: none) are the peers whose
  // x-forwarded-for / forwarded metadata names the caller.
  GrpcFace(const RouteTable* routes, Gatekeeper* gatekeeper, Forwarder* forwarder, CallLog* log,
           const TrustedProxies* proxies = nullptr)
      : routes_(routes),
        gatekeeper_(gatekeeper),
        forwarder_(forwarder),
        log_(log),
        proxies_(proxies) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  class Call;
  const RouteTable* routes_;
  Gatekeeper* gatekeeper_;
  Forwarder* forwarder_;
  CallLog* log_;
  const TrustedProxies* proxies_;
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_GRPC_FACE_H_
