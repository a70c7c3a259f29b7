// The org tree over gRPC: create, idempotent repeat, levels, paths with Chinese names, paging,
// rename, retire, delete, and who may do it.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"

#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

using common::v1::ORG_LEVEL_COMMUNITY;
using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

class OrgTreeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.ok()); }
  IdentityTestEnv env_;
};

TEST_F(OrgTreeTest, BuildsDistrictStreetCommunityAndResolvesThePathInChinese) {
  const std::string d = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  const std::string s = env_.MakeOrg(d, ORG_LEVEL_STREET, "qingyuan", "清远街道");
  const std::string c = env_.MakeOrg(s, ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区");
  ASSERT_FALSE(c.empty());
  v1::ResolveOrgPathRequest req;
  req.set_org_id(c);
  v1::ResolveOrgPathResponse path;
  ASSERT_TRUE(env_.stub().ResolveOrgPath(env_.With(env_.admin_token()).get(), req, &path).ok());
  EXPECT_EQ(path.display_path(), "平城区 / 清远街道 / 清远西街社区");
  ASSERT_EQ(path.ancestors_size(), 4);
  EXPECT_EQ(path.ancestors(0).name(), "大同市");
  EXPECT_EQ(path.path().district_id(), d);
  EXPECT_EQ(path.path().street_id(), s);
  EXPECT_EQ(path.path().community_id(), c);

  v1::LookupOrgNodeRequest lookup;
  lookup.set_code("qyxj");
  v1::LookupOrgNodeResponse found;
  ASSERT_TRUE(env_.stub().LookupOrgNode(env_.With(env_.admin_token()).get(), lookup, &found).ok());
  EXPECT_EQ(found.node().org_id(), c);
  EXPECT_EQ(found.node().name(), "清远西街社区");
}

TEST_F(OrgTreeTest, RepeatingACreateReturnsTheNodeAndAClashingCodeIsRefused) {
  const std::string d = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  EXPECT_EQ(env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区"), d);
  v1::CreateOrgNodeRequest clash;
  clash.set_parent_id("root");
  clash.set_level(ORG_LEVEL_DISTRICT);
  clash.set_code("140213");
  clash.set_name("云冈区");
  v1::CreateOrgNodeResponse resp;
  grpc::Status s = env_.stub().CreateOrgNode(env_.With(env_.admin_token()).get(), clash, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM org_nodes"), "2");
}

TEST_F(OrgTreeTest, BadInputIsRefusedNamingTheFieldAndWritesNothing) {
  const std::string d = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  const struct {
    std::string parent;
    common::v1::OrgLevel level;
    std::string code, name, field;
    grpc::StatusCode expected;
  } kCases[] = {
      {d, ORG_LEVEL_COMMUNITY, "c1", "社区", "level", grpc::StatusCode::INVALID_ARGUMENT},
      {d, ORG_LEVEL_STREET, "x", "街道", "code", grpc::StatusCode::INVALID_ARGUMENT},
      {d, ORG_LEVEL_STREET, "s1", "", "name", grpc::StatusCode::INVALID_ARGUMENT},
      {d, ORG_LEVEL_STREET, "s1", std::string(65 * 3, 'a'), "name",
       grpc::StatusCode::INVALID_ARGUMENT},
      {"", ORG_LEVEL_STREET, "s1", "街道", "parent_id", grpc::StatusCode::INVALID_ARGUMENT},
      {"d_missing", ORG_LEVEL_STREET, "s1", "街道", "parent_id", grpc::StatusCode::NOT_FOUND},
  };
  for (const auto& c : kCases) {
    v1::CreateOrgNodeRequest req;
    req.set_parent_id(c.parent);
    req.set_level(c.level);
    req.set_code(c.code);
    req.set_name(c.name);
    v1::CreateOrgNodeResponse resp;
    grpc::Status s = env_.stub().CreateOrgNode(env_.With(env_.admin_token()).get(), req, &resp);
    EXPECT_EQ(s.error_code(), c.expected) << c.field << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(c.field), std::string::npos) << s.error_message();
  }
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM org_nodes"), "2");
}

TEST_F(OrgTreeTest, ChildrenArePagedByCodeAndRetiredOnesHidden) {
  const std::string d = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  for (int i = 0; i < 5; ++i) {
    env_.MakeOrg(d, ORG_LEVEL_STREET, "st" + std::to_string(i), "街道" + std::to_string(i));
  }
  std::vector<std::string> codes;
  std::string token;
  do {
    v1::ListOrgChildrenRequest req;
    req.set_org_id(d);
    req.set_page_size(2);
    req.set_page_token(token);
    v1::ListOrgChildrenResponse resp;
    grpc::Status s = env_.stub().ListOrgChildren(env_.With(env_.admin_token()).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& n : resp.children()) codes.push_back(n.code());
    token = resp.next_page_token();
  } while (!token.empty());
  EXPECT_EQ(codes, (std::vector<std::string>{"st0", "st1", "st2", "st3", "st4"}));

  v1::ListOrgChildrenRequest bad;
  bad.set_org_id(d);
  bad.set_page_token("not-a-token");
  v1::ListOrgChildrenResponse resp;
  EXPECT_EQ(
      env_.stub().ListOrgChildren(env_.With(env_.admin_token()).get(), bad, &resp).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(OrgTreeTest, RenameRetireAndDeleteFollowTheRules) {
  const std::string d = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  const std::string s = env_.MakeOrg(d, ORG_LEVEL_STREET, "qingyuan", "清远街道");
  const std::string admin = env_.admin_token();

  v1::RenameOrgNodeRequest rename;
  rename.set_org_id(s);
  rename.set_name("清远路街道");
  rename.set_expected_version(7);
  v1::RenameOrgNodeResponse renamed;
  EXPECT_EQ(env_.stub().RenameOrgNode(env_.With(admin).get(), rename, &renamed).error_code(),
            grpc::StatusCode::ABORTED);
  rename.set_expected_version(1);
  ASSERT_TRUE(env_.stub().RenameOrgNode(env_.With(admin).get(), rename, &renamed).ok());
  EXPECT_EQ(renamed.node().name(), "清远路街道");
  EXPECT_EQ(renamed.node().version(), 2);

  // A district with an active street cannot retire or be deleted.
  v1::RetireOrgNodeRequest retire;
  retire.set_org_id(d);
  v1::RetireOrgNodeResponse retired;
  EXPECT_EQ(env_.stub().RetireOrgNode(env_.With(admin).get(), retire, &retired).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::DeleteOrgNodeRequest del;
  del.set_org_id(d);
  v1::DeleteOrgNodeResponse deleted;
  grpc::Status refused = env_.stub().DeleteOrgNode(env_.With(admin).get(), del, &deleted);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("children"), std::string::npos);

  // The street is unused: it retires (then takes no children) and could be deleted.
  retire.set_org_id(s);
  ASSERT_TRUE(env_.stub().RetireOrgNode(env_.With(admin).get(), retire, &retired).ok());
  EXPECT_EQ(retired.node().status(), v1::ORG_NODE_STATUS_RETIRED);
  v1::CreateOrgNodeRequest under;
  under.set_parent_id(s);
  under.set_level(ORG_LEVEL_COMMUNITY);
  under.set_code("c-late");
  under.set_name("新社区");
  v1::CreateOrgNodeResponse created;
  EXPECT_EQ(env_.stub().CreateOrgNode(env_.With(admin).get(), under, &created).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  del.set_org_id(s);
  EXPECT_TRUE(env_.stub().DeleteOrgNode(env_.With(admin).get(), del, &deleted).ok());
  EXPECT_EQ(env_.stub().DeleteOrgNode(env_.With(admin).get(), del, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(OrgTreeTest, OnlyAdminsCoveringTheParentChangeTheTree) {
  const std::string pingcheng = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  const std::string yungang = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140214", "云冈区");
  const std::string district_admin =
      env_.Staff("13900000011", common::v1::ROLE_DISTRICT_ADMIN, pingcheng);
  ASSERT_FALSE(district_admin.empty());
  v1::CreateOrgNodeRequest req;
  req.set_level(ORG_LEVEL_STREET);
  req.set_code("xinwang");
  req.set_name("新旺街道");
  req.set_parent_id(yungang);
  v1::CreateOrgNodeResponse resp;
  EXPECT_EQ(env_.stub().CreateOrgNode(env_.With(district_admin).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  req.set_parent_id(pingcheng);
  EXPECT_TRUE(env_.stub().CreateOrgNode(env_.With(district_admin).get(), req, &resp).ok());
  // No token at all: UNAUTHENTICATED; a rider: PERMISSION_DENIED by role.
  EXPECT_EQ(env_.stub().CreateOrgNode(env_.With("").get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const std::string rider = env_.Register("13800138000", "小王").tokens().access_token();
  EXPECT_EQ(env_.stub().CreateOrgNode(env_.With(rider).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Reads are open to anyone signed in.
  v1::BatchGetOrgNodesRequest batch;
  batch.add_org_ids(yungang);
  batch.add_org_ids(pingcheng);
  v1::BatchGetOrgNodesResponse nodes;
  ASSERT_TRUE(env_.stub().BatchGetOrgNodes(env_.With(rider).get(), batch, &nodes).ok());
  ASSERT_EQ(nodes.nodes_size(), 2);
  EXPECT_EQ(nodes.nodes(0).name(), "云冈区");
  batch.add_org_ids("d_nowhere");
  grpc::Status missing = env_.stub().BatchGetOrgNodes(env_.With(rider).get(), batch, &nodes);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(missing.error_message().find("d_nowhere"), std::string::npos);
}

TEST_F(OrgTreeTest, AGrantOfAnotherRoleDoesNotLendItsScope) {
  const std::string pingcheng = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140213", "平城区");
  const std::string yungang = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "140214", "云冈区");
  const std::string street = env_.MakeOrg(yungang, ORG_LEVEL_STREET, "pingsheng", "平盛街道");
  const std::string shop = env_.MakeOrg(street, ORG_LEVEL_COMMUNITY, "anyi", "安益园社区");
  // An admin of Pingcheng who is also a love-corner merchant in a Yungang community.
  const std::string token = env_.Staff("13900000012", common::v1::ROLE_DISTRICT_ADMIN, pingcheng);
  v1::WhoAmIResponse me;
  ASSERT_TRUE(env_.stub().WhoAmI(env_.With(token).get(), {}, &me).ok());
  v1::GrantRoleRequest merchant;
  merchant.set_person_id(me.person().person_id());
  merchant.set_role(common::v1::ROLE_MERCHANT);
  merchant.set_org_id(shop);
  v1::GrantRoleResponse granted;
  ASSERT_TRUE(env_.stub().GrantRole(env_.With(env_.admin_token()).get(), merchant, &granted).ok());
  const std::string both = env_.Login("13900000012", IdentityTestEnv::kStaffPassword);
  v1::RetireOrgNodeRequest retire;
  retire.set_org_id(shop);
  v1::RetireOrgNodeResponse retired;
  EXPECT_EQ(env_.stub().RetireOrgNode(env_.With(both).get(), retire, &retired).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Sets or clears `org`'s division code as `token`; the node after it in `node`.
grpc::Status SetDivisionCode(IdentityTestEnv& env, const std::string& token, const std::string& org,
                             const std::string& code, v1::OrgNode* node = nullptr) {
  v1::SetOrgDivisionCodeRequest req;
  req.set_org_id(org);
  req.set_division_code(code);
  v1::SetOrgDivisionCodeResponse resp;
  grpc::Status s = env.stub().SetOrgDivisionCode(env.With(token).get(), req, &resp);
  if (node != nullptr) *node = resp.node();
  return s;
}

TEST_F(OrgTreeTest, DivisionCodesMapACitySystemsIdsOntoTheTree) {
  const std::string admin = env_.admin_token();
  // Created with its code, or given one later; found by it.
  v1::CreateOrgNodeRequest create;
  create.set_parent_id("root");
  create.set_level(ORG_LEVEL_DISTRICT);
  create.set_code("pingcheng");
  create.set_name("平城区");
  create.set_division_code("140213000000");
  v1::CreateOrgNodeResponse created;
  ASSERT_TRUE(env_.stub().CreateOrgNode(env_.With(admin).get(), create, &created).ok());
  const std::string d = created.node().org_id();
  EXPECT_EQ(created.node().division_code(), "140213000000");
  // The same create again is a repeat; with another code under the same stable code, a clash.
  ASSERT_TRUE(env_.stub().CreateOrgNode(env_.With(admin).get(), create, &created).ok());
  EXPECT_EQ(created.node().org_id(), d);
  create.set_division_code("140214000000");
  EXPECT_EQ(env_.stub().CreateOrgNode(env_.With(admin).get(), create, &created).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  const std::string s = env_.MakeOrg(d, ORG_LEVEL_STREET, "qingyuan", "清远街道");
  const std::string s2 = env_.MakeOrg(d, ORG_LEVEL_STREET, "xinwang", "新旺街道");
  v1::OrgNode node;
  ASSERT_TRUE(SetDivisionCode(env_, admin, s, "140213001000", &node).ok());
  EXPECT_EQ(node.division_code(), "140213001000");
  EXPECT_EQ(node.version(), 2);
  ASSERT_TRUE(SetDivisionCode(env_, admin, s, "140213001000", &node).ok());
  EXPECT_EQ(node.version(), 2) << "the code it has: nothing changes";

  v1::LookupOrgNodeRequest lookup;
  lookup.set_division_code("140213001000");
  v1::LookupOrgNodeResponse found;
  ASSERT_TRUE(env_.stub().LookupOrgNode(env_.With(admin).get(), lookup, &found).ok());
  EXPECT_EQ(found.node().org_id(), s);
  EXPECT_EQ(found.node().name(), "清远街道");
  lookup.set_division_code("140213009000");
  grpc::Status st = env_.stub().LookupOrgNode(env_.With(admin).get(), lookup, &found);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "division_code: no org node has division code 140213009000");

  // Bad input, each refused with what is wrong, writing nothing.
  st = SetDivisionCode(env_, admin, s, "140214001000");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorReasonOf(FromGrpcStatus(st)), "DIVISION_CODE_OUTSIDE_PARENT");
  EXPECT_EQ(st.error_message(),
            "division_code: 140214001000 is not under 140213000000, the code above it (a code "
            "under it starts with 140213)");
  st = SetDivisionCode(env_, admin, s, "140213000000");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "division_code: 140213000000 is not a street's code: its own digits are 7–9, the rest "
            "zeros (e.g. 140213001000)");
  st = SetDivisionCode(env_, admin, s, "1402130010");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  st = SetDivisionCode(env_, admin, s2, "140213001000");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(st.error_message(),
            absl::StrCat("division_code: 140213001000 is held by org node ", s, " (清远街道)"));
  st = SetDivisionCode(env_, admin, "", "140213001000");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SetDivisionCode(env_, admin, "s_missing", "140213001000").error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The district's code cannot move away from its street's.
  st = SetDivisionCode(env_, admin, d, "140214000000");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(),
            absl::StrCat("division_code: node ", s,
                         " below has 140213001000, which is not under 140214000000; change or "
                         "clear that code first"));
  EXPECT_EQ(env_.Sql("SELECT string_agg(division_code, ',' ORDER BY division_code) FROM org_nodes"),
            "140213000000,140213001000");
  // Below a street without a code, a community still keeps to its district's code; and the
  // district cannot move away from that community's either.
  const std::string c = env_.MakeOrg(s2, ORG_LEVEL_COMMUNITY, "gongnong", "工农路社区");
  st = SetDivisionCode(env_, admin, c, "140299001001");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(),
            "division_code: 140299001001 is not under 140213000000, the code above it (a code "
            "under it starts with 140213)");
  ASSERT_TRUE(SetDivisionCode(env_, admin, c, "140213002001").ok());
  ASSERT_TRUE(SetDivisionCode(env_, admin, s, "").ok());
  st = SetDivisionCode(env_, admin, d, "140214000000");
  EXPECT_EQ(st.error_message(),
            absl::StrCat("division_code: node ", c,
                         " below has 140213002001, which is not under 140214000000; change or "
                         "clear that code first"));
  ASSERT_TRUE(SetDivisionCode(env_, admin, c, "").ok());
  // Cleared, the street frees the code and the district may move.
  ASSERT_TRUE(SetDivisionCode(env_, admin, s, "", &node).ok());
  EXPECT_EQ(node.division_code(), "");
  ASSERT_TRUE(SetDivisionCode(env_, admin, d, "140214000000", &node).ok());
  ASSERT_TRUE(SetDivisionCode(env_, admin, s2, "140214001000").ok());

  // Lookups take one of the two codes.
  lookup.Clear();
  EXPECT_EQ(env_.stub().LookupOrgNode(env_.With(admin).get(), lookup, &found).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  lookup.set_code("pingcheng");
  lookup.set_division_code("140214000000");
  st = env_.stub().LookupOrgNode(env_.With(admin).get(), lookup, &found);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "code: give code or division_code, not both");
  lookup.clear_code();
  lookup.set_division_code("14021400000x");
  st = env_.stub().LookupOrgNode(env_.With(admin).get(), lookup, &found);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "division_code: must be the 12 digits of a statistical division code (e.g. "
            "140213001000)");

  // A district admin elsewhere may not set it; a rider may not at all.
  const std::string yungang = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "yungang", "云冈区");
  const std::string other_admin =
      env_.Staff("13900000021", common::v1::ROLE_DISTRICT_ADMIN, yungang);
  EXPECT_EQ(SetDivisionCode(env_, other_admin, s, "140214002000").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(SetDivisionCode(env_, other_admin, yungang, "140215000000").ok());
  const std::string rider = env_.Register("13800138021", "小周").tokens().access_token();
  EXPECT_EQ(SetDivisionCode(env_, rider, yungang, "140216000000").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace civicpoints::identity

namespace civicpoints::identity {
namespace {

// A responsible department hangs beside the street or district it serves: on no path, with no
// division code, holding only its staff's grants, which street staff of its street may make.
TEST_F(OrgTreeTest, ADepartmentServesItsStreetFromBesideTheTree) {
  const std::string admin = env_.admin_token();
  const std::string d = env_.MakeOrg("root", ORG_LEVEL_DISTRICT, "pc", "平城区");
  const std::string s = env_.MakeOrg(d, ORG_LEVEL_STREET, "qy", "清远街道");
  const std::string c = env_.MakeOrg(s, ORG_LEVEL_COMMUNITY, "qyxj", "清远西街社区");
  const std::string team =
      env_.MakeOrg(s, common::v1::ORG_LEVEL_DEPARTMENT, "qy-zfd", "清远街道综合行政执法队");
  const std::string office =
      env_.MakeOrg(d, common::v1::ORG_LEVEL_DEPARTMENT, "pc-hws", "平城区环卫所");
  ASSERT_FALSE(team.empty() || office.empty());

  v1::ResolveOrgPathRequest resolve;
  resolve.set_org_id(team);
  v1::ResolveOrgPathResponse path;
  ASSERT_TRUE(env_.stub().ResolveOrgPath(env_.With(admin).get(), resolve, &path).ok());
  EXPECT_EQ(path.path().district_id(), d);
  EXPECT_EQ(path.path().street_id(), s) << "its path is the street it serves";
  EXPECT_TRUE(path.path().community_id().empty());
  ASSERT_EQ(path.ancestors_size(), 4);  // root, district, street, the department itself
  EXPECT_EQ(path.ancestors(3).org_id(), team);
  EXPECT_EQ(path.ancestors(3).level(), common::v1::ORG_LEVEL_DEPARTMENT);
  resolve.set_org_id(office);
  ASSERT_TRUE(env_.stub().ResolveOrgPath(env_.With(admin).get(), resolve, &path).ok());
  EXPECT_TRUE(path.path().street_id().empty());
  EXPECT_EQ(path.ancestors(path.ancestors_size() - 1).org_id(), office);

  // Not under a community or another department, and with no division code.
  v1::CreateOrgNodeRequest bad;
  bad.set_parent_id(c);
  bad.set_level(common::v1::ORG_LEVEL_DEPARTMENT);
  bad.set_code("qyxj-wy");
  bad.set_name("某物业公司");
  v1::CreateOrgNodeResponse created;
  grpc::Status st = env_.stub().CreateOrgNode(env_.With(admin).get(), bad, &created);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("a department serves a street or a district"),
            std::string::npos)
      << st.error_message();
  bad.set_parent_id(team);
  EXPECT_EQ(env_.stub().CreateOrgNode(env_.With(admin).get(), bad, &created).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  bad.set_parent_id(s);
  bad.set_division_code("140213001000");
  st = env_.stub().CreateOrgNode(env_.With(admin).get(), bad, &created);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("no statistical division code"), std::string::npos)
      << st.error_message();
  // Nor does a community sit under a department.
  bad.clear_division_code();
  bad.set_parent_id(team);
  bad.set_level(ORG_LEVEL_COMMUNITY);
  EXPECT_EQ(env_.stub().CreateOrgNode(env_.With(admin).get(), bad, &created).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM org_nodes WHERE code = 'qyxj-wy'"), "0");

  // Its staff's role is held there and nowhere else; street staff of its street grant it.
  const std::string street_staff = env_.Staff("13900000071", common::v1::ROLE_STREET_STAFF, s);
  env_.Staff("13900000072", common::v1::ROLE_COMMUNITY_STAFF, c);
  const std::string person =
      env_.Sql("SELECT person_id FROM people WHERE display_name = '工作人员0072'");
  v1::GrantRoleRequest grant;
  grant.set_person_id(person);
  grant.set_role(common::v1::ROLE_DEPARTMENT_STAFF);
  grant.set_org_id(s);
  v1::GrantRoleResponse granted;
  EXPECT_EQ(env_.stub().GrantRole(env_.With(admin).get(), grant, &granted).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  grant.set_org_id(team);
  ASSERT_TRUE(env_.stub().GrantRole(env_.With(street_staff).get(), grant, &granted).ok());
  EXPECT_EQ(granted.grant().org_level(), common::v1::ORG_LEVEL_DEPARTMENT);
  grant.set_role(common::v1::ROLE_ORG_VIEWER);
  EXPECT_EQ(env_.stub().GrantRole(env_.With(admin).get(), grant, &granted).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Listed among the street's children, but no area of its statistics.
  v1::ListOrgChildrenRequest children;
  children.set_org_id(s);
  v1::ListOrgChildrenResponse listed;
  ASSERT_TRUE(env_.stub().ListOrgChildren(env_.With(admin).get(), children, &listed).ok());
  EXPECT_EQ(listed.children_size(), 2);
  v1::ListChildOrgStatsRequest stats;
  stats.set_org_id(s);
  v1::ListChildOrgStatsResponse figures;
  ASSERT_TRUE(env_.stub().ListChildOrgStats(env_.With(admin).get(), stats, &figures).ok());
  ASSERT_EQ(figures.stats_size(), 1);
  EXPECT_EQ(figures.stats(0).org_id(), c);
}

}  // namespace
}  // namespace civicpoints::identity
