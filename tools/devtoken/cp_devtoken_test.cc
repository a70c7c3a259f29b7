// cp_devtoken as make run uses it: a key made by `init` verifies what `sign` prints.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/auth/jwt.h"

namespace civicpoints::auth {
namespace {

std::string RunCommand(const std::string& command, int* status) {
  FILE* out = popen((command + " 2>&1").c_str(), "r");
  std::string text;
  char buf[1024];
  while (fgets(buf, sizeof buf, out) != nullptr) text += buf;
  *status = pclose(out);
  return text;
}

TEST(DevTokenTest, SignedTokenVerifiesAgainstTheInitKeys) {
  const std::string bin = CP_DEVTOKEN_BIN;
  char tmpl[] = "/tmp/cp-devtoken-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  int status = 0;
  RunCommand(bin + " init " + dir, &status);
  ASSERT_EQ(status, 0);
  std::string token = RunCommand(
      bin + " sign " + dir + " --subject=svc:dev --role=ROLE_INTERNAL_SERVICE --ttl=5m", &status);
  ASSERT_EQ(status, 0) << token;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  std::stringstream jwks;
  jwks << std::ifstream(dir + "/jwks.json").rdbuf();
  absl::StatusOr<KeySet> keys = KeySet::FromJwks(jwks.str());
  ASSERT_TRUE(keys.ok()) << keys.status();
  TokenVerifier verifier(std::make_shared<StaticKeyProvider>(*keys));
  absl::StatusOr<Principal> who = verifier.Verify(token, absl::Now());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->subject, "svc:dev");
  EXPECT_TRUE(who->HasRole(common::v1::ROLE_INTERNAL_SERVICE));

  RunCommand(bin + " sign " + dir + " --subject=x --role=ROLE_NOPE", &status);
  EXPECT_NE(status, 0);
  (void)std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace civicpoints::auth
