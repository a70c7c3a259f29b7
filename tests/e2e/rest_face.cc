// The REST/JSON face as an app would use it, built only from what the contracts publish: the verb
// and path template each method declares (civicpoints.options.v1.http), path variables from the
// request's fields, the rest of the request as the JSON body (POST/PUT/PATCH) or as query
// parameters with dotted names (GET/DELETE), and the error body {"code","status","message"}.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "civicpoints/options/v1/options.pb.h"
#include "tests/e2e/face.h"

namespace civicpoints::e2e {
namespace {

namespace gp = google::protobuf;
using json = nlohmann::json;

std::string PercentEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A JSON object as query parameters: nested objects by dotted names, arrays as repeated names.
void Flatten(const json& value, const std::string& name, std::vector<std::string>* params) {
  if (value.is_object()) {
    for (const auto& [k, v] : value.items()) Flatten(v, name.empty() ? k : name + "." + k, params);
  } else if (value.is_array()) {
    for (const json& v : value) Flatten(v, name, params);
  } else {
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    params->push_back(PercentEncode(name) + "=" + PercentEncode(text));
  }
}

class RestFace : public Face {
 public:
  explicit RestFace(const std::string& base_url) : client_(base_url) {
    client_.set_read_timeout(30, 0);
    client_.set_connection_timeout(5, 0);
  }

  std::string name() const override { return "rest"; }
  int last_http_status() const override { return last_http_status_; }
  std::string last_reason() const override { return last_reason_; }
  LocalizedText last_localized() const override { return last_localized_; }
  void set_accept_language(std::string value) override { accept_language_ = std::move(value); }

  grpc::Status Call(const std::string& method, const std::string& token, const gp::Message& request,
                    gp::Message* response) override {
    last_http_status_ = 0;
    last_reason_.clear();
    last_localized_ = {};
    const gp::MethodDescriptor* m = gp::DescriptorPool::generated_pool()->FindMethodByName(method);
    if (m == nullptr || !m->options().HasExtension(options::v1::http)) {
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, method + " declares no REST route");
    }
    const options::v1::HttpRoute& route = m->options().GetExtension(options::v1::http);
    std::string verb, path_template;
    switch (route.pattern_case()) {
      case options::v1::HttpRoute::kGet:
        verb = "GET", path_template = route.get();
        break;
      case options::v1::HttpRoute::kPost:
        verb = "POST", path_template = route.post();
        break;
      case options::v1::HttpRoute::kPut:
        verb = "PUT", path_template = route.put();
        break;
      case options::v1::HttpRoute::kPatch:
        verb = "PATCH", path_template = route.patch();
        break;
      case options::v1::HttpRoute::kDelete:
        verb = "DELETE", path_template = route.delete_();
        break;
      default:
        return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, method + ": empty route");
    }

    std::string body_text;
    gp::util::JsonPrintOptions print;
    print.preserve_proto_field_names = false;
    if (!gp::util::MessageToJsonString(request, &body_text, print).ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "request does not print as JSON");
    }
    json body = json::parse(body_text);

    // Path variables ({person_id}) take the request's field of that name, which then leaves the
    // body or query.
    std::string path;
    for (absl::string_view part : absl::StrSplit(path_template, '{')) {
      const size_t close = part.find('}');
      if (close == absl::string_view::npos) {
        absl::StrAppend(&path, part);
        continue;
      }
      const std::string field_name(part.substr(0, close));
      const gp::FieldDescriptor* f = request.GetDescriptor()->FindFieldByName(field_name);
      if (f == nullptr) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "route names unknown field " + field_name);
      }
      absl::StrAppend(&path, PercentEncode(request.GetReflection()->GetString(request, f)),
                      part.substr(close + 1));
      body.erase(f->json_name());
    }

    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    if (!accept_language_.empty()) headers.emplace("Accept-Language", accept_language_);
    if (verb == "GET" || verb == "DELETE") {
      std::vector<std::string> params;
      Flatten(body, "", &params);
      if (!params.empty()) absl::StrAppend(&path, "?", absl::StrJoin(params, "&"));
    }
    httplib::Result result = Send(verb, path, headers, body.dump());
    if (!result) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          absl::StrCat(verb, " ", path, ": ", httplib::to_string(result.error())));
    }
    last_http_status_ = result->status;
    if (result->status == 200) {
      gp::util::JsonParseOptions parse;
      parse.ignore_unknown_fields = false;
      gp::util::Status s = gp::util::JsonStringToMessage(result->body, response, parse);
      if (!s.ok()) {
        return grpc::Status(
            grpc::StatusCode::INTERNAL,
            absl::StrCat("response of ", path, " does not parse: ", s.message().as_string()));
      }
      return grpc::Status::OK;
    }
    const json error = json::parse(result->body, nullptr, /*allow_exceptions=*/false);
    if (!error.is_object() || !error.contains("code") || !error["code"].is_number_integer()) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          absl::StrCat("HTTP ", result->status,
                                       " without an error body: ", result->body.substr(0, 200)));
    }
    if (error.contains("details") && error["details"].is_array()) {
      for (const json& d : error["details"]) {
        if (d.is_object() && d.value("@type", std::string()).ends_with("google.rpc.ErrorInfo")) {
          last_reason_ = d.value("reason", std::string());
        }
        if (d.is_object() &&
            d.value("@type", std::string()).ends_with("google.rpc.LocalizedMessage")) {
          last_localized_ = {d.value("locale", std::string()), d.value("message", std::string())};
        }
      }
    }
    return grpc::Status(static_cast<grpc::StatusCode>(error["code"].get<int>()),
                        error.value("message", std::string()));
  }

 private:
  httplib::Result Send(const std::string& verb, const std::string& path,
                       const httplib::Headers& headers, const std::string& body) {
    if (verb == "GET") return client_.Get(path, headers);
    if (verb == "DELETE") return client_.Delete(path, headers);
    if (verb == "POST") return client_.Post(path, headers, body, "application/json");
    if (verb == "PUT") return client_.Put(path, headers, body, "application/json");
    return client_.Patch(path, headers, body, "application/json");
  }

  httplib::Client client_;
  int last_http_status_ = 0;
  std::string last_reason_;
  LocalizedText last_localized_;
  std::string accept_language_;
};

}  // namespace

std::unique_ptr<Face> MakeRestFace(const std::string& base_url) {
  return std::make_unique<RestFace>(base_url);
}

}  // namespace civicpoints::e2e
