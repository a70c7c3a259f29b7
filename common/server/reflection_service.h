// Server reflection, both grpc.reflection.v1 and the older v1alpha that grpcurl, Postman and most
// tools still ask first: the services a server offers and the descriptors of the files that
// declare them, answered from the descriptors linked into the process.
//
// Ours rather than gRPC's reflection plugin because the plugin lists only the services registered
// with the server, and the gateway answers the whole suite through one generic service: it names
// the services it forwards, and `grpcurl GATEWAY list` and `describe` see them.
//
//   ReflectionServices reflection({"civicpoints.ledger.v1.LedgerService",
//   "grpc.health.v1.Health"}); for (grpc::Service* s : reflection.services())
//   builder.RegisterService(s);
#ifndef CIVICPOINTS_COMMON_SERVER_REFLECTION_SERVICE_H_
#define CIVICPOINTS_COMMON_SERVER_REFLECTION_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

namespace grpc {
class Service;
}  // namespace grpc

namespace civicpoints::server {

class ReflectionServices {
 public:
  // `service_names` are the services to list (the two reflection services are added); listed
  // once each, sorted. Every name should be in the process's generated descriptor pool, so a
  // client can ask for its file.
  explicit ReflectionServices(std::vector<std::string> service_names);
  ~ReflectionServices();
  ReflectionServices(const ReflectionServices&) = delete;
  ReflectionServices& operator=(const ReflectionServices&) = delete;

  // The v1 and v1alpha services, to register with a server; they live as long as this object.
  std::vector<grpc::Service*> services() const;

  // The names list_services answers.
  const std::vector<std::string>& service_names() const { return names_; }

 private:
  class V1;
  class V1Alpha;
  std::vector<std::string> names_;
  std::unique_ptr<V1> v1_;
  std::unique_ptr<V1Alpha> v1alpha_;
};

}  // namespace civicpoints::server

#endif  // CIVICPOINTS_COMMON_SERVER_REFLECTION_SERVICE_H_
