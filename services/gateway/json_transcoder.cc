#include "services/gateway/json_transcoder.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/text.h"
#include "common/status/grpc_status.h"
#include "google/rpc/status.pb.h"

namespace civicpoints::gateway {
namespace {

namespace gp = ::google::protobuf;
using nlohmann::json;

// protobuf's JSON conversion works on the binary form: converting bytes directly spares the
// parse and re-serialization MessageToJsonString / JsonStringToMessage add around it.
gp::util::TypeResolver* Resolver() {
  static gp::util::TypeResolver* const resolver = gp::util::NewTypeResolverForDescriptorPool(
      "type.googleapis.com", gp::DescriptorPool::generated_pool());
  return resolver;
}

std::string TypeUrl(const gp::Descriptor* type) {
  return absl::StrCat("type.googleapis.com/", type->full_name());
}

const gp::FieldDescriptor* FindField(const gp::Descriptor* type, const std::string& name) {
  const gp::FieldDescriptor* f = type->FindFieldByName(name);
  if (f == nullptr) f = type->FindFieldByCamelcaseName(name);
  if (f == nullptr) {
    for (int i = 0; i < type->field_count() && f == nullptr; ++i) {
      if (type->field(i)->json_name() == name) f = type->field(i);
    }
  }
  return f;
}

// A query or path value as the JSON value the field's type takes. Values that do not convert
// are passed as strings, so the JSON parser names the field in its error.
json ScalarValue(const gp::FieldDescriptor* f, const std::string& text) {
  switch (f->cpp_type()) {
    case gp::FieldDescriptor::CPPTYPE_BOOL:
      if (text == "true" || text == "1") return true;
      if (text == "false" || text == "0") return false;
      return text;
    case gp::FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (absl::SimpleAtoi(text, &v)) return v;
      return text;
    }
    case gp::FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (absl::SimpleAtoi(text, &v)) return v;
      return text;
    }
    case gp::FieldDescriptor::CPPTYPE_DOUBLE:
    case gp::FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (absl::SimpleAtod(text, &v)) return v;
      return text;
    }
    default:  // int64 and uint64 travel as strings in proto3 JSON; enums by name; strings.
      return text;
  }
}

// Sets `name` (a field path, "scope.orgId") to `value` in `object` for message `type`.
absl::Status SetParam(const gp::Descriptor* type, const std::string& name, const std::string& value,
                      bool replace, json& object) {
  // Percent-decoding can make any bytes; JSON (and a proto string) holds only UTF-8.
  if (!text::Utf8Length(name).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("parameter '", absl::CHexEscape(name),
                                                   "': its name is not valid UTF-8 once decoded"));
  }
  if (!text::Utf8Length(value).has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", name, "': its value is not valid UTF-8 once decoded"));
  }
  const std::vector<std::string> parts = absl::StrSplit(name, '.');
  json* at = &object;
  for (size_t i = 0; i < parts.size(); ++i) {
    const gp::FieldDescriptor* f = FindField(type, parts[i]);
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown parameter '", name, "': ", type->full_name(), " has no field '", parts[i], "'"));
    }
    const bool last = i + 1 == parts.size();
    const bool well_known = f->cpp_type() == gp::FieldDescriptor::CPPTYPE_MESSAGE &&
                            absl::StartsWith(f->message_type()->full_name(), "google.protobuf.");
    if (f->is_map() || (f->cpp_type() == gp::FieldDescriptor::CPPTYPE_MESSAGE && !well_known &&
                        (last || f->is_repeated()))) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", name,
                       "' cannot be given in the URL; name a field inside it or send a body"));
    }
    if (!last) {
      if (f->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown parameter '", name, "': '", parts[i], "' has no fields"));
      }
      if (well_known) {
        return absl::InvalidArgumentError(absl::StrCat("unknown parameter '", name, "'"));
      }
      json& child = (*at)[f->json_name()];
      if (!child.is_object()) child = json::object();
      at = &child;
      type = f->message_type();
      continue;
    }
    const json v = well_known ? json(value) : ScalarValue(f, value);
    json& slot = (*at)[f->json_name()];
    if (f->is_repeated() && !replace) {
      if (!slot.is_array()) slot = json::array();
      slot.push_back(v);
    } else if (f->is_repeated()) {
      slot = json::array({v});
    } else {
      slot = v;
    }
  }
  return absl::OkStatus();
}

gp::util::JsonParseOptions ParseOptions() {
  gp::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  return options;
}

std::string CleanParseError(absl::string_view message) {
  // The util status text starts with its code name ("INVALID_ARGUMENT:"); drop it.
  absl::ConsumePrefix(&message, "INVALID_ARGUMENT:");
  return std::string(message);
}

}  // namespace

absl::StatusOr<std::string> BuildRequest(const Route& route, const Params& bindings,
                                         const Params& query, absl::string_view body) {
  const gp::Descriptor* type = route.method->input_type();
  const std::string type_url = TypeUrl(type);
  // Serialized messages concatenated are merged (the later's singular fields win, repeated ones
  // append), so the URL's fields are appended after the body's.
  std::string out;
  const bool has_body =
      route.http_verb == "POST" || route.http_verb == "PUT" || route.http_verb == "PATCH";
  if (has_body && !body.empty()) {
    gp::util::Status s = gp::util::JsonToBinaryString(
        Resolver(), type_url, gp::StringPiece(body.data(), body.size()), &out, ParseOptions());
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("request body: ", CleanParseError(s.message().as_string())));
    }
  }
  json params = json::object();
  for (const auto& [name, value] : query) {
    if (absl::Status s = SetParam(type, name, value, /*replace=*/false, params); !s.ok()) return s;
  }
  for (const auto& [name, value] : bindings) {
    if (absl::Status s = SetParam(type, name, value, /*replace=*/true, params); !s.ok()) return s;
  }
  if (!params.empty()) {
    std::string from_url;
    gp::util::Status s = gp::util::JsonToBinaryString(Resolver(), type_url, params.dump(),
                                                      &from_url, ParseOptions());
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("URL parameters: ", CleanParseError(s.message().as_string())));
    }
    out.append(from_url);
  }
  return out;
}

absl::StatusOr<std::string> ResponseJson(const Route& route, const std::string& bytes) {
  gp::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  gp::util::Status s = gp::util::BinaryToJsonString(
      Resolver(), TypeUrl(route.method->output_type()), bytes, &out, options);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("the ", route.backend, " service answered ", route.method->full_name(),
                     " with a malformed message: ", s.message().as_string()));
  }
  return out;
}

int HttpStatusFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:  // UNKNOWN, INTERNAL, DATA_LOSS
      return 500;
  }
}

std::string ErrorJson(const grpc::Status& status) {
  json out = {{"code", static_cast<int>(status.error_code())},
              {"status", GrpcCodeName(status.error_code())},
              {"message", status.error_message()},
              {"details", json::array()}};
  google::rpc::Status rich;
  if (!status.error_details().empty() && rich.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& detail : rich.details()) {
      std::string text;
      if (gp::util::MessageToJsonString(detail, &text).ok()) {
        json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (!parsed.is_discarded()) out["details"].push_back(std::move(parsed));
      }
    }
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace civicpoints::gateway
