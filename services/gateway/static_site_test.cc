// The dashboard's files as the gateway serves them: read at start, answered from memory with
// their types, an ETag and the page's security headers; nothing outside the directory.
#include "services/gateway/static_site.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace civicpoints::gateway {
namespace {

namespace fs = std::filesystem;

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class StaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cp-site-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "vendor");
    std::ofstream(dir_ / "index.html") << "<!doctype html><title>看板</title>";
    std::ofstream(dir_ / "app.js") << "export const x = 1;";
    std::ofstream(dir_ / "vendor" / "lib.js") << "var lib;";
    std::ofstream(dir_.parent_path() / "secret.txt") << "not for the web";
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove(dir_.parent_path() / "secret.txt");
  }

  static HttpRequest Get(const std::string& path) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.target = path;
    return r;
  }

  fs::path dir_;
};

TEST_F(StaticSiteTest, ServesItsFilesWithTypesTagsAndThePagesSecurityHeaders) {
  auto site = StaticSite::Load(dir_.string(), "/dashboard");
  ASSERT_TRUE(site.ok()) << site.status();
  EXPECT_EQ((*site)->file_count(), 3u);
  EXPECT_TRUE((*site)->Owns("/dashboard"));
  EXPECT_TRUE((*site)->Owns("/dashboard/app.js"));
  EXPECT_FALSE((*site)->Owns("/dashboards"));
  EXPECT_FALSE((*site)->Owns("/v1/orgs"));

  HttpResponse bare = (*site)->Serve(Get("/dashboard"));
  EXPECT_EQ(bare.status, 301);
  EXPECT_EQ(HeaderOf(bare, "Location"), "/dashboard/");

  HttpResponse index = (*site)->Serve(Get("/dashboard/"));
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("看板"), std::string::npos);
  EXPECT_NE(HeaderOf(index, "Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  EXPECT_EQ(HeaderOf(index, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(index, "Cache-Control"), "no-cache");

  HttpResponse js = (*site)->Serve(Get("/dashboard/vendor/lib.js"));
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  const std::string etag = HeaderOf(js, "ETag");
  ASSERT_FALSE(etag.empty());
  HttpRequest again = Get("/dashboard/vendor/lib.js");
  again.headers.emplace_back("if-none-match", etag);
  HttpResponse unchanged = (*site)->Serve(again);
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_TRUE(unchanged.body.empty());
}

TEST_F(StaticSiteTest, NothingOutsideTheDirectoryAndOnlyReads) {
  auto site = StaticSite::Load(dir_.string(), "/dashboard");
  ASSERT_TRUE(site.ok()) << site.status();
  for (const char* path : {"/dashboard/../secret.txt", "/dashboard/%2e%2e/secret.txt",
                           "/dashboard/nothing.js", "/dashboard/vendor"}) {
    EXPECT_EQ((*site)->Serve(Get(path)).status, 404) << path;
  }
  HttpRequest post = Get("/dashboard/app.js");
  post.method = "POST";
  HttpResponse refused = (*site)->Serve(post);
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(HeaderOf(refused, "Allow"), "GET, HEAD");
}

TEST_F(StaticSiteTest, ADirectoryWithoutAnIndexOrMissingIsRefusedAtStart) {
  EXPECT_EQ(StaticSite::Load((dir_ / "vendor").string(), "/dashboard").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StaticSite::Load((dir_ / "none").string(), "/dashboard").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace civicpoints::gateway
