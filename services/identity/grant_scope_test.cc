// Org scope from role grants: a grant covers its node's subtree; one that names no node (a token
// made by hand or by a faulty issuer) covers nothing, not the whole city.
#include <gtest/gtest.h>

#include "services/identity/identity_test_env.h"
#include "services/identity/service_support.h"

namespace civicpoints::identity {
namespace {

using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

TEST(GrantScopeTest, AGrantWithoutANodeCoversNothing) {
  OrgRow street;
  street.org_id = "s_qingyuan";
  street.district_id = "d_pingcheng";
  street.street_id = "s_qingyuan";
  EXPECT_FALSE(GrantCoversOrg({common::v1::ROLE_DISTRICT_ADMIN, ""}, street));
  EXPECT_TRUE(GrantCoversOrg({common::v1::ROLE_DISTRICT_ADMIN, kRootId}, street));
  EXPECT_TRUE(GrantCoversOrg({common::v1::ROLE_DISTRICT_ADMIN, "d_pingcheng"}, street));
  EXPECT_FALSE(GrantCoversOrg({common::v1::ROLE_DISTRICT_ADMIN, "d_yungang"}, street));
}

TEST(GrantScopeTest, ATokenWhoseGrantNamesNoNodeCannotActOnTheCity) {
  IdentityTestEnv env;
  ASSERT_TRUE(env.ok());
  const std::string district = env.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  const absl::Time now = absl::Now();
  auth::Principal p;
  p.subject = "p_nobody";
  p.token_id = "t_1";
  p.kind = "human";
  p.roles = {{common::v1::ROLE_DISTRICT_ADMIN, ""}};
  p.issued_at = now;
  p.expires_at = now + absl::Minutes(5);
  absl::StatusOr<std::string> token = env.keys().Sign(p, now);
  ASSERT_TRUE(token.ok()) << token.status();
  v1::CreateOrgNodeRequest req;
  req.set_parent_id(district);
  req.set_level(ORG_LEVEL_STREET);
  req.set_code("xinwang");
  req.set_name("新旺街道");
  v1::CreateOrgNodeResponse resp;
  EXPECT_EQ(env.stub().CreateOrgNode(env.With(*token).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListServiceAccountsRequest list;
  list.set_org_id("root");
  v1::ListServiceAccountsResponse accounts;
  EXPECT_EQ(env.stub().ListServiceAccounts(env.With(*token).get(), list, &accounts).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The same grant at the root covers it.
  p.roles = {{common::v1::ROLE_DISTRICT_ADMIN, kRootId}};
  token = env.keys().Sign(p, now);
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(env.stub().CreateOrgNode(env.With(*token).get(), req, &resp).ok());
}

}  // namespace
}  // namespace civicpoints::identity
