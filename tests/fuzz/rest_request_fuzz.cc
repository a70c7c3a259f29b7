// The REST face's request path as the gateway runs it on what a client sends: the target split
// into path and query, the route matched, the request message built from path variables, query
// and JSON body. Input: "VERB /target?query" on the first line, the body after it.
// Properties: a built request parses as the method's message; a refusal is INVALID_ARGUMENT; a
// path without a route for this verb never lists the verb among those it allows.
#include <google/protobuf/message.h>

#include <algorithm>
#include <memory>

#include "services/gateway/http_server.h"
#include "services/gateway/json_transcoder.h"
#include "services/gateway/route_table.h"
#include "tests/fuzz/fuzz_routes.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace civicpoints;
  fuzz::FuzzInput in(data, size);
  const std::string line = in.Line();
  const std::string body = in.Rest();
  const size_t space = line.find(' ');
  const std::string verb = line.substr(0, space);
  const std::string target = space == std::string::npos ? "" : line.substr(space + 1);
  const size_t mark = target.find('?');
  const std::string path = gateway::PercentDecode(absl::string_view(target).substr(0, mark), false);
  const gateway::Params query =
      mark == std::string::npos ? gateway::Params()
                                : gateway::ParseQuery(absl::string_view(target).substr(mark + 1));

  const gateway::HttpMatch match = fuzz::Routes().MatchHttp(verb, path);
  if (match.route == nullptr) {
    FUZZ_CHECK(std::find(match.allowed_verbs.begin(), match.allowed_verbs.end(), verb) ==
               match.allowed_verbs.end());
    return 0;
  }
  const absl::StatusOr<std::string> request =
      gateway::BuildRequest(*match.route, match.bindings, query, body);
  if (!request.ok()) {
    FUZZ_CHECK(request.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(match.route->method->input_type())
          ->New());
  FUZZ_CHECK(message->ParseFromString(*request));
  // The answer's path on the same bytes: printed, or refused as a malformed answer.
  (void)gateway::ResponseJson(*match.route, *request);
  return 0;
}
