// The four public contracts read as the gateway, the docs and the authorization tests will read
// them: from the method options in the linked descriptors.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "civicpoints/options/v1/options.pb.h"
#include "common/auth/method_policy.h"
#include "common/auth/suite_services.h"

namespace civicpoints {
namespace {

namespace gp = ::google::protobuf;

// The proto libraries are linked whole (cmake/CivicProtos.cmake), so every service is in the pool.
std::vector<const gp::ServiceDescriptor*> Services() {
  const gp::DescriptorPool* pool = gp::DescriptorPool::generated_pool();
  std::vector<const gp::ServiceDescriptor*> out;
  for (const auth::SuiteService& service : auth::kSuiteServices) {
    const gp::ServiceDescriptor* s = pool->FindServiceByName(service.full_name);
    EXPECT_NE(s, nullptr) << service.full_name;
    if (s != nullptr) out.push_back(s);
  }
  return out;
}

TEST(ContractTest, EveryMethodDeclaresAValidAccessPolicy) {
  int methods = 0;
  for (const gp::ServiceDescriptor* s : Services()) {
    for (int i = 0; i < s->method_count(); ++i) {
      ++methods;
      absl::StatusOr<auth::MethodPolicy> policy = auth::PolicyFor(s->method(i)->full_name());
      EXPECT_TRUE(policy.ok()) << s->method(i)->full_name() << ": " << policy.status();
      if (policy.ok()) {
        EXPECT_TRUE(policy->is_public || policy->any_authenticated || !policy->roles.empty())
            << s->method(i)->full_name() << " may be called by nobody";
      }
    }
  }
  EXPECT_GT(methods, 100);
}

// Internal methods (only the services call them) have no outside face; every other one has a route,
// except a server-streaming one (served on the gateway's gRPC face; HTTP/1.1 JSON cannot stream it,
// so its contract names a unary counterpart, as Subscribe names ListEvents).
TEST(ContractTest, EveryPublicMethodHasOneRestRouteWhosePathFieldsExist) {
  std::map<std::string, std::string> routes;  // "VERB path" -> method
  static const std::regex kParam(R"(\{([a-z_]+)\})");
  for (const gp::ServiceDescriptor* s : Services()) {
    for (int i = 0; i < s->method_count(); ++i) {
      const gp::MethodDescriptor* m = s->method(i);
      if (m->options().GetExtension(options::v1::access).internal()) continue;
      if (m->server_streaming()) {
        EXPECT_FALSE(m->options().HasExtension(options::v1::http)) << m->full_name();
        continue;
      }
      ASSERT_TRUE(m->options().HasExtension(options::v1::http)) << m->full_name();
      const options::v1::HttpRoute& http = m->options().GetExtension(options::v1::http);
      std::string verb, path;
      switch (http.pattern_case()) {
        case options::v1::HttpRoute::kGet:
          verb = "GET";
          path = http.get();
          break;
        case options::v1::HttpRoute::kPost:
          verb = "POST";
          path = http.post();
          break;
        case options::v1::HttpRoute::kPut:
          verb = "PUT";
          path = http.put();
          break;
        case options::v1::HttpRoute::kPatch:
          verb = "PATCH";
          path = http.patch();
          break;
        case options::v1::HttpRoute::kDelete:
          verb = "DELETE";
          path = http.delete_();
          break;
        default:
          ADD_FAILURE() << m->full_name() << " has no verb";
          continue;
      }
      EXPECT_EQ(path.rfind("/v1/", 0), 0u) << m->full_name() << ": " << path;
      // One spelling for every path: literal segments in kebab-case ("check-ins"), variables in
      // snake_case as the fields they bind, a custom verb in lowerCamelCase (":searchNearby").
      static const std::regex kPath(
          R"(/v1(/([a-z][a-z0-9]*(-[a-z0-9]+)*|\{[a-z][a-z0-9_]*\}))+(:[a-z][a-zA-Z0-9]*)?)");
      // The one file-like path: JWKS consumers look for a .json document.
      EXPECT_TRUE(std::regex_match(path, kPath) || path == "/v1/keys/jwks.json")
          << m->full_name() << ": " << path
          << " (segments kebab-case, variables snake_case, custom verb lowerCamelCase)";
      for (std::sregex_iterator it(path.begin(), path.end(), kParam), end; it != end; ++it) {
        EXPECT_NE(m->input_type()->FindFieldByName((*it)[1].str()), nullptr)
            << m->full_name() << ": path binds unknown field " << (*it)[1].str();
      }
      // Routes that differ only in the name of a path variable are the same route.
      const std::string shape = verb + " " + std::regex_replace(path, kParam, "{}");
      auto [it, inserted] = routes.emplace(shape, m->full_name());
      EXPECT_TRUE(inserted) << shape << " is claimed by " << it->second << " and "
                            << m->full_name();
    }
  }
}

// What only the services may call: points minted, held, spent or released, and rankings rebuilt.
TEST(ContractTest, MoneyMovingServiceMethodsAreInternalAndInternalMeansServicesOnly) {
  std::set<std::string> internal;
  for (const gp::ServiceDescriptor* s : Services()) {
    for (int i = 0; i < s->method_count(); ++i) {
      const gp::MethodDescriptor* m = s->method(i);
      absl::StatusOr<auth::MethodPolicy> policy = auth::PolicyFor(m->full_name());
      ASSERT_TRUE(policy.ok()) << m->full_name() << ": " << policy.status();
      if (!policy->internal) continue;
      internal.insert(m->name());
      EXPECT_FALSE(m->options().HasExtension(options::v1::http)) << m->full_name();
      EXPECT_EQ(policy->roles, std::vector<auth::Role>{common::v1::ROLE_INTERNAL_SERVICE})
          << m->full_name();
    }
  }
  for (const char* name : {"Award", "BulkAward", "Hold", "Capture", "Release", "RebuildRankings"}) {
    EXPECT_TRUE(internal.count(name)) << name << " must be marked internal";
  }
}

TEST(ContractTest, EveryRequestAndResponseIsNamedForItsMethod) {
  for (const gp::ServiceDescriptor* s : Services()) {
    for (int i = 0; i < s->method_count(); ++i) {
      const gp::MethodDescriptor* m = s->method(i);
      EXPECT_EQ(m->input_type()->name(), m->name() + "Request");
      EXPECT_EQ(m->output_type()->name(), m->name() + "Response");
    }
  }
}

}  // namespace
}  // namespace civicpoints
