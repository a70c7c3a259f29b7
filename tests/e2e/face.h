// One of the gateway's two faces, as a client sees it: a call is a method of the suite's contracts
// with its request and response messages, made over gRPC (the generated C++ stubs) or over
// REST/JSON (the route the method declares, the proto3 JSON mapping). The end-to-end story runs
// unchanged on either. Not thread-safe: one face per test.
//
//   std::unique_ptr<Face> face = MakeRestFace("http://127.0.0.1:31070");
//   identity::v1::LoginResponse resp;
//   grpc::Status s = face->Call("civicpoints.identity.v1.IdentityService.Login", "", req, &resp);
#ifndef CIVICPOINTS_TESTS_E2E_FACE_H_
#define CIVICPOINTS_TESTS_E2E_FACE_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>

namespace civicpoints::e2e {

// A google.rpc.LocalizedMessage: the error's sentence for the person using the app.
struct LocalizedText {
  std::string locale;  // "zh-CN", "en"; empty when the error carried none
  std::string message;
};

class Face {
 public:
  virtual ~Face() = default;

  // "grpc" or "rest", for test names and messages.
  virtual std::string name() const = 0;

  // Calls `method` (full name, "civicpoints.ledger.v1.LedgerService.GetBalance") with `request`,
  // sending `token` as the bearer token unless it is empty, and fills `response` on OK. The status
  // is the suite's answer: the gRPC status, or on REST the code and message of the error body.
  virtual grpc::Status Call(const std::string& method, const std::string& token,
                            const google::protobuf::Message& request,
                            google::protobuf::Message* response) = 0;

  // The HTTP status of the last call on REST; 0 on gRPC.
  virtual int last_http_status() const = 0;

  // The reason of the last call's refusal, from its google.rpc.ErrorInfo detail (gRPC status
  // details, or the REST error body's "details"), e.g. "OUTSIDE_GEOFENCE"; empty when none.
  virtual std::string last_reason() const = 0;

  // The google.rpc.LocalizedMessage of the last call's error (status details, or the REST error
  // body's "details"); empty when none.
  virtual LocalizedText last_localized() const = 0;

  // Sends `value` as the Accept-Language header (accept-language metadata on gRPC) with every
  // later call; empty sends none.
  virtual void set_accept_language(std::string value) = 0;
};

// The gateway's gRPC face at `address` ("127.0.0.1:31050").
std::unique_ptr<Face> MakeGrpcFace(const std::string& address);

// The gateway's REST/JSON face at `base_url` ("http://127.0.0.1:31070").
std::unique_ptr<Face> MakeRestFace(const std::string& base_url);

}  // namespace civicpoints::e2e

#endif  // CIVICPOINTS_TESTS_E2E_FACE_H_
