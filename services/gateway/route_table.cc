#include "services/gateway/route_table.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "civicpoints/options/v1/options.pb.h"
#include "common/auth/suite_services.h"

namespace civicpoints::gateway {
namespace {

namespace gp = ::google::protobuf;
namespace opts = ::civicpoints::options::v1;

bool IsVariable(absl::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Splits "/v1/orgs/{org_id}:rename" into segments and a custom verb.
absl::Status ParseTemplate(Route& route) {
  absl::string_view path = route.http_template;
  if (!absl::ConsumePrefix(&path, "/") || path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(route.grpc_path, ": REST path must start with '/': ", route.http_template));
  }
  route.segments = absl::StrSplit(path, '/');
  std::string& last = route.segments.back();
  const size_t close = last.rfind('}');
  const size_t colon = last.find(':', close == std::string::npos ? 0 : close);
  if (colon != std::string::npos) {
    route.custom_verb = last.substr(colon + 1);
    last.resize(colon);
  }
  for (const std::string& s : route.segments) {
    if (s.empty() || (absl::StrContains(s, '{') && !IsVariable(s))) {
      return absl::InvalidArgumentError(
          absl::StrCat(route.grpc_path, ": bad REST path ", route.http_template));
    }
  }
  return absl::OkStatus();
}

void SetHttp(const opts::HttpRoute& http, Route& route) {
  switch (http.pattern_case()) {
    case opts::HttpRoute::kGet:
      route.http_verb = "GET";
      route.http_template = http.get();
      break;
    case opts::HttpRoute::kPost:
      route.http_verb = "POST";
      route.http_template = http.post();
      break;
    case opts::HttpRoute::kPut:
      route.http_verb = "PUT";
      route.http_template = http.put();
      break;
    case opts::HttpRoute::kPatch:
      route.http_verb = "PATCH";
      route.http_template = http.patch();
      break;
    case opts::HttpRoute::kDelete:
      route.http_verb = "DELETE";
      route.http_template = http.delete_();
      break;
    case opts::HttpRoute::PATTERN_NOT_SET:
      break;
  }
}

// Matches `parts` (the request path split, custom verb still on the last part) against a route;
// returns the number of literal segments matched (more is more specific), or -1.
int MatchSegments(const Route& route, const std::vector<absl::string_view>& parts,
                  std::vector<std::pair<std::string, std::string>>* bindings) {
  if (route.segments.size() != parts.size()) return -1;
  int literals = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::string_view part = parts[i];
    if (i + 1 == parts.size() && !route.custom_verb.empty()) {
      if (!absl::ConsumeSuffix(&part, route.custom_verb) || !absl::ConsumeSuffix(&part, ":")) {
        return -1;
      }
    }
    const std::string& segment = route.segments[i];
    if (IsVariable(segment)) {
      if (part.empty()) return -1;
      if (bindings != nullptr) {
        bindings->emplace_back(segment.substr(1, segment.size() - 2), std::string(part));
      }
    } else if (part != segment) {
      return -1;
    } else {
      ++literals;
    }
  }
  // A custom verb is more specific than a variable that would swallow it.
  return literals * 2 + (route.custom_verb.empty() ? 0 : 1);
}

}  // namespace

std::vector<BackendService> DefaultServices() {
  std::vector<BackendService> out;
  for (const auth::SuiteService& s : auth::kSuiteServices) out.push_back({s.backend, s.full_name});
  return out;
}

absl::StatusOr<RouteTable> RouteTable::Build(const std::vector<BackendService>& services) {
  RouteTable table;
  for (const BackendService& b : services) {
    const gp::ServiceDescriptor* service =
        gp::DescriptorPool::generated_pool()->FindServiceByName(b.service);
    if (service == nullptr) {
      return absl::NotFoundError(absl::StrCat("service ", b.service, " is not linked in"));
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const gp::MethodDescriptor* m = service->method(i);
      auto route = std::make_unique<Route>();
      route->grpc_path = absl::StrCat("/", service->full_name(), "/", m->name());
      route->backend = b.backend;
      route->method = m;
      absl::StatusOr<auth::MethodPolicy> policy = auth::PolicyFor(route->grpc_path);
      if (policy.ok()) {
        route->policy = *std::move(policy);
      } else {
        route->policy_status = policy.status();
      }
      if (m->options().HasExtension(opts::http)) {
        SetHttp(m->options().GetExtension(opts::http), *route);
        if (!route->http_template.empty()) {
          if (absl::Status s = ParseTemplate(*route); !s.ok()) return s;
        }
      }
      table.by_grpc_path_[route->grpc_path] = route.get();
      table.routes_.push_back(std::move(route));
    }
  }
  // No two methods may answer one verb and path.
  for (size_t i = 0; i < table.routes_.size(); ++i) {
    for (size_t j = i + 1; j < table.routes_.size(); ++j) {
      const Route& a = *table.routes_[i];
      const Route& b = *table.routes_[j];
      if (!a.http_verb.empty() && a.http_verb == b.http_verb && a.segments == b.segments &&
          a.custom_verb == b.custom_verb) {
        return absl::InvalidArgumentError(
            absl::StrCat(a.grpc_path, " and ", b.grpc_path, " share the route ", a.http_template));
      }
    }
  }
  return table;
}

std::vector<std::string> RouteTable::services() const {
  std::vector<std::string> names;
  for (const std::unique_ptr<Route>& r : routes_) {
    const std::string& name = r->method->service()->full_name();
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

const Route* RouteTable::FindGrpc(absl::string_view grpc_path) const {
  auto it = by_grpc_path_.find(grpc_path);
  return it == by_grpc_path_.end() ? nullptr : it->second;
}

HttpMatch RouteTable::MatchHttp(absl::string_view verb, absl::string_view path) const {
  HttpMatch match;
  if (!absl::ConsumePrefix(&path, "/")) return match;
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  int best = -1;
  for (const auto& route : routes_) {
    if (route->http_verb.empty()) continue;
    if (route->http_verb != verb) {
      if (MatchSegments(*route, parts, nullptr) >= 0 &&
          std::find(match.allowed_verbs.begin(), match.allowed_verbs.end(), route->http_verb) ==
              match.allowed_verbs.end()) {
        match.allowed_verbs.push_back(route->http_verb);
      }
      continue;
    }
    std::vector<std::pair<std::string, std::string>> bindings;
    const int score = MatchSegments(*route, parts, &bindings);
    if (score > best) {
      best = score;
      match.route = route.get();
      match.bindings = std::move(bindings);
    }
  }
  if (match.route != nullptr) match.allowed_verbs.clear();
  return match;
}

}  // namespace civicpoints::gateway
