#include "services/gateway/openapi.h"

#include <google/protobuf/descriptor.h>

#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/principal.h"

namespace civicpoints::gateway {
namespace {

namespace gp = ::google::protobuf;
using nlohmann::json;

json Ref(const gp::Descriptor* type) {
  return {{"$ref", absl::StrCat("#/components/schemas/", type->full_name())}};
}

// The JSON schema of a well-known type, or null when `type` is not one.
json WellKnown(const gp::Descriptor* type) {
  const std::string& name = type->full_name();
  if (name == "google.protobuf.Timestamp") return {{"type", "string"}, {"format", "date-time"}};
  if (name == "google.protobuf.Duration") return {{"type", "string"}, {"example", "3.5s"}};
  if (name == "google.protobuf.FieldMask") return {{"type", "string"}, {"example", "name,phone"}};
  if (name == "google.protobuf.Struct") return {{"type", "object"}};
  if (name == "google.protobuf.Value") return json::object();
  if (name == "google.protobuf.Empty") return {{"type", "object"}};
  if (absl::StartsWith(name, "google.protobuf.") && absl::EndsWith(name, "Value")) {
    return {{"type", name == "google.protobuf.BoolValue" ? "boolean" : "string"}};
  }
  return nullptr;
}

class SchemaWriter {
 public:
  json FieldSchema(const gp::FieldDescriptor* f) {
    json item;
    switch (f->type()) {
      case gp::FieldDescriptor::TYPE_BOOL:
        item = {{"type", "boolean"}};
        break;
      case gp::FieldDescriptor::TYPE_INT32:
      case gp::FieldDescriptor::TYPE_SINT32:
      case gp::FieldDescriptor::TYPE_SFIXED32:
      case gp::FieldDescriptor::TYPE_UINT32:
      case gp::FieldDescriptor::TYPE_FIXED32:
        item = {{"type", "integer"}, {"format", "int32"}};
        break;
      case gp::FieldDescriptor::TYPE_INT64:
      case gp::FieldDescriptor::TYPE_SINT64:
      case gp::FieldDescriptor::TYPE_SFIXED64:
      case gp::FieldDescriptor::TYPE_UINT64:
      case gp::FieldDescriptor::TYPE_FIXED64:
        item = {{"type", "string"}, {"format", "int64"}};
        break;
      case gp::FieldDescriptor::TYPE_FLOAT:
      case gp::FieldDescriptor::TYPE_DOUBLE:
        item = {{"type", "number"}};
        break;
      case gp::FieldDescriptor::TYPE_STRING:
        item = {{"type", "string"}};
        break;
      case gp::FieldDescriptor::TYPE_BYTES:
        item = {{"type", "string"}, {"format", "byte"}};
        break;
      case gp::FieldDescriptor::TYPE_ENUM: {
        json values = json::array();
        for (int i = 0; i < f->enum_type()->value_count(); ++i) {
          values.push_back(f->enum_type()->value(i)->name());
        }
        item = {{"type", "string"}, {"enum", values}};
        break;
      }
      case gp::FieldDescriptor::TYPE_MESSAGE:
      case gp::FieldDescriptor::TYPE_GROUP:
        if (f->is_map()) {
          return {{"type", "object"},
                  {"additionalProperties", FieldSchema(f->message_type()->map_value())}};
        }
        item = MessageSchema(f->message_type());
        break;
    }
    if (f->is_repeated()) return {{"type", "array"}, {"items", item}};
    return item;
  }

  // A reference to the message's schema, written into `schemas` once.
  json MessageSchema(const gp::Descriptor* type) {
    if (json wk = WellKnown(type); !wk.is_null()) return wk;
    if (seen_.insert(type->full_name()).second) {
      json properties = json::object();
      for (int i = 0; i < type->field_count(); ++i) {
        properties[type->field(i)->json_name()] = FieldSchema(type->field(i));
      }
      schemas_[type->full_name()] = {
          {"type", "object"}, {"additionalProperties", false}, {"properties", properties}};
    }
    return Ref(type);
  }

  json& schemas() { return schemas_; }

 private:
  std::set<std::string> seen_;
  json schemas_ = json::object();
};

// Query parameters of a GET/DELETE: scalar fields by name, one level into messages.
void QueryParameters(const gp::Descriptor* type, const std::string& prefix,
                     const std::set<std::string>& bound, SchemaWriter& writer, int depth,
                     json& out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const gp::FieldDescriptor* f = type->field(i);
    const std::string name = prefix + f->json_name();
    if (bound.count(f->name()) != 0 && prefix.empty()) continue;
    if (f->cpp_type() == gp::FieldDescriptor::CPPTYPE_MESSAGE && !f->is_map() &&
        WellKnown(f->message_type()).is_null()) {
      if (!f->is_repeated() && depth < 2) {
        QueryParameters(f->message_type(), name + ".", bound, writer, depth + 1, out);
      }
      continue;
    }
    if (f->is_map()) continue;
    json p = {{"name", name}, {"in", "query"}, {"required", false}};
    p["schema"] = writer.FieldSchema(f);
    if (f->is_repeated()) {
      p["style"] = "form";
      p["explode"] = true;
    }
    out.push_back(std::move(p));
  }
}

json AccessOf(const Route& route) {
  if (!route.policy_status.ok()) return {{"refused", std::string(route.policy_status.message())}};
  json roles = json::array();
  for (auth::Role r : route.policy.roles) roles.push_back(auth::RoleName(r));
  return {{"public", route.policy.is_public},
          {"anyAuthenticated", route.policy.any_authenticated},
          {"roles", roles},
          {"scopes", route.policy.scopes}};
}

}  // namespace

std::string OpenApiJson(const RouteTable& routes) {
  SchemaWriter writer;
  json paths = json::object();
  for (const auto& r : routes.routes()) {
    const Route& route = *r;
    if (route.http_template.empty() || route.policy.internal) continue;
    std::set<std::string> bound;
    json parameters = json::array();
    for (const std::string& s : route.segments) {
      if (s.size() > 2 && s.front() == '{') {
        const std::string field = s.substr(1, s.size() - 2);
        bound.insert(field);
        parameters.push_back({{"name", field},
                              {"in", "path"},
                              {"required", true},
                              {"schema", {{"type", "string"}}}});
      }
    }
    json op = {
        {"operationId", absl::StrCat(route.method->service()->name(), "_", route.method->name())},
        {"tags", {route.method->service()->name()}},
        {"summary", route.method->full_name()},
        {"x-civicpoints-access", AccessOf(route)},
        {"x-civicpoints-grpc", route.grpc_path}};
    if (route.http_verb == "GET" || route.http_verb == "DELETE") {
      QueryParameters(route.method->input_type(), "", bound, writer, 0, parameters);
    } else {
      op["requestBody"] = {
          {"required", false},
          {"content",
           {{"application/json", {{"schema", writer.MessageSchema(route.method->input_type())}}}}}};
    }
    op["parameters"] = parameters;
    op["responses"] = {
        {"200",
         {{"description", "OK"},
          {"content",
           {{"application/json",
             {{"schema", writer.MessageSchema(route.method->output_type())}}}}}}},
        {"default",
         {{"description", "Error"},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}};
    if (route.policy_status.ok() && route.policy.is_public) {
      op["security"] = json::array();
    }
    std::string path;
    for (const std::string& s : route.segments) absl::StrAppend(&path, "/", s);
    if (!route.custom_verb.empty()) absl::StrAppend(&path, ":", route.custom_verb);
    std::string verb = route.http_verb;
    for (char& c : verb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[path][verb] = std::move(op);
  }
  json& schemas = writer.schemas();
  schemas["Error"] = {
      {"type", "object"},
      {"properties",
       {{"code", {{"type", "integer"}, {"description", "the gRPC status code"}}},
        {"status", {{"type", "string"}, {"description", "the gRPC status code's name"}}},
        {"message",
         {{"type", "string"}, {"description", "for developers, in English, naming the field"}}},
        {"details",
         {{"type", "array"},
          {"items", {{"type", "object"}}},
          {"description",
           "google.rpc details, each with its \"@type\": ErrorInfo (reason, domain, "
           "metadata) for a refusal an app may act on, RetryInfo when to retry, and always a "
           "LocalizedMessage (locale, message): the sentence to show the person, in the "
           "Accept-Language asked for (zh-CN or en)"}}}}}};
  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "Civic Points API"},
        {"version", "v1"},
        {"description",
         "REST/JSON face of the Civic Points gateway, generated from the .proto contracts."}}},
      {"paths", paths},
      {"components",
       {{"schemas", schemas},
        {"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}},
          {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Api-Key"}}}}}}},
      {"security", json::array({{{"bearer", json::array()}}, {{"apiKey", json::array()}}})}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace civicpoints::gateway
