#include "tools/cpctl/session_store.h"

#include <sys/stat.h>

#include <filesystem>

#include "gtest/gtest.h"

namespace civicpoints::cpctl {
namespace {

TEST(SessionStoreTest, SavesPrivatelyAndLoadsBack) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("cpctl_session_test_" + std::to_string(getpid()));
  SessionStore store((dir / "sub" / "cpctl.json").string());
  EXPECT_FALSE(store.Load()->has_value());
  Session s{.addr = "127.0.0.1:1",
            .person_id = "p_1",
            .access_token = "a",
            .access_expire_time = absl::FromUnixSeconds(1800000000),
            .refresh_token = "r",
            .refresh_expire_time = absl::FromUnixSeconds(1900000000),
            .password_change_required = true};
  ASSERT_TRUE(store.Save(s).ok());
  struct stat st;
  ASSERT_EQ(stat(store.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(stat((dir / "sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  absl::StatusOr<std::optional<Session>> back = store.Load();
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->refresh_token, "r");
  EXPECT_EQ((*back)->access_expire_time, s.access_expire_time);
  EXPECT_TRUE((*back)->password_change_required);

  chmod(store.path().c_str(), 0644);
  EXPECT_EQ(store.Load().status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(store.Remove().ok());
  EXPECT_FALSE(store.Load()->has_value());
  EXPECT_TRUE(store.Remove().ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace civicpoints::cpctl
