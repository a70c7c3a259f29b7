// Riders' names on rankings: the choice in the profile, its bad input, and the feed the ledger
// follows (ListRankingNames).
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/server/service_token.h"
#include "services/identity/identity_test_env.h"

namespace civicpoints::identity {
namespace {

class RankingNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    const std::string key = env_.InternalServiceKey("ledger");
    ASSERT_FALSE(key.empty());
    server::ApiKeyServiceToken source(absl::StrCat("127.0.0.1:", env_.port()), key);
    absl::StatusOr<std::string> token = source.Get();
    ASSERT_TRUE(token.ok()) << token.status();
    service_token_ = *token;
  }

  grpc::Status Choose(const std::string& token, v1::RankingNameChoice choice,
                      const std::string* nickname, v1::UpdateMyRiderProfileResponse* resp) {
    v1::UpdateMyRiderProfileRequest req;
    if (choice != v1::RANKING_NAME_CHOICE_UNSPECIFIED || nickname == nullptr) {
      req.set_ranking_name_choice(choice);
      req.mutable_update_mask()->add_paths("ranking_name_choice");
    }
    if (nickname != nullptr) {
      req.set_nickname(*nickname);
      req.mutable_update_mask()->add_paths("nickname");
    }
    return env_.stub().UpdateMyRiderProfile(env_.With(token).get(), req, resp);
  }

  // The feed's pages after `*after` (which moves to their end) until `want` riders appeared, at
  // most 10 s: a change shows once every transaction older than it has ended, and other tests'
  // transactions on the shared PostgreSQL server may hold that back a moment.
  std::map<std::string, std::string> Feed(std::string* after, size_t want = 0, int page_size = 0) {
    std::map<std::string, std::string> names;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    for (;;) {
      v1::ListRankingNamesRequest req;
      req.set_after(*after);
      req.set_page_size(page_size);
      v1::ListRankingNamesResponse resp;
      grpc::Status s = env_.stub().ListRankingNames(env_.With(service_token_).get(), req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return names;
      for (const v1::RankingName& n : resp.names()) names[n.person_id()] = n.name();
      if (!resp.next_after().empty()) *after = resp.next_after();
      if (resp.more()) continue;
      if (names.size() >= want || absl::Now() > deadline) return names;
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  IdentityTestEnv env_;
  std::string service_token_;
};

TEST_F(RankingNamesTest, ARiderChoosesHowTheyAppearAndTheFeedFollows) {
  const v1::RegisterRiderResponse wang = env_.Register("13800138000", "王建军");
  const v1::RegisterRiderResponse li = env_.Register("13800138001", "李四");
  const std::string wang_id = wang.person().person_id();
  // The default is the masked name, shown to the rider in their profile.
  EXPECT_EQ(wang.person().rider().ranking_name_choice(), v1::RANKING_NAME_CHOICE_MASKED_NAME);
  EXPECT_EQ(wang.person().rider().ranking_name(), "王*军");

  std::string after;
  std::map<std::string, std::string> names = Feed(&after, 2, 1);  // a page at a time
  EXPECT_EQ(names[wang_id], "王*军");
  EXPECT_EQ(names[li.person().person_id()], "李*");
  EXPECT_TRUE(Feed(&after).empty()) << "nothing changed since";

  const std::string token = wang.tokens().access_token();
  v1::UpdateMyRiderProfileResponse resp;
  const std::string nickname = "飞毛腿";
  ASSERT_TRUE(Choose(token, v1::RANKING_NAME_CHOICE_NICKNAME, &nickname, &resp).ok());
  EXPECT_EQ(resp.person().rider().ranking_name(), "飞毛腿");
  EXPECT_EQ(resp.person().rider().nickname(), "飞毛腿");
  names = Feed(&after, 1);
  ASSERT_EQ(names.size(), 1u) << "only the rider who changed";
  EXPECT_EQ(names[wang_id], "飞毛腿");

  ASSERT_TRUE(Choose(token, v1::RANKING_NAME_CHOICE_ANONYMOUS, nullptr, &resp).ok());
  const std::string anonymous = resp.person().rider().ranking_name();
  EXPECT_TRUE(absl::StartsWith(anonymous, "小哥 #")) << anonymous;
  EXPECT_EQ(resp.person().rider().nickname(), "飞毛腿") << "kept for a later choice";
  EXPECT_EQ(Feed(&after, 1)[wang_id], anonymous);

  // A closed account shows no name and keeps no nickname.
  v1::UpdatePersonRequest close;
  close.set_person_id(wang_id);
  close.set_status(v1::PERSON_STATUS_CLOSED);
  close.set_reason("the rider asked for it");
  close.mutable_update_mask()->add_paths("status");
  v1::UpdatePersonResponse closed;
  ASSERT_TRUE(env_.stub().UpdatePerson(env_.With(env_.admin_token()).get(), close, &closed).ok());
  EXPECT_EQ(Feed(&after, 1)[wang_id], anonymous);
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT coalesce(nickname, '-') FROM people WHERE person_id = '",
                                  wang_id, "'")),
            "-");

  // The feed is for the suite's services alone; its cursor is checked.
  v1::ListRankingNamesRequest req;
  v1::ListRankingNamesResponse page;
  EXPECT_EQ(env_.stub()
                .ListRankingNames(env_.With(li.tokens().access_token()).get(), req, &page)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  req.set_after("not-a-cursor");
  grpc::Status s = env_.stub().ListRankingNames(env_.With(service_token_).get(), req, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("after"), std::string::npos) << s.error_message();
}

TEST_F(RankingNamesTest, BadChoicesAreRefusedNamingTheFieldAndChangeNothing) {
  const v1::RegisterRiderResponse rider = env_.Register("13800138002", "赵六");
  const std::string token = rider.tokens().access_token();
  v1::UpdateMyRiderProfileResponse resp;
  const auto refused = [&](v1::RankingNameChoice choice, const std::string* nickname,
                           const std::string& field) {
    grpc::Status s = Choose(token, choice, nickname, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), field + ":")) << s.error_message();
  };
  for (const std::string& bad : {std::string("一二三四五六七八九十一二三"), std::string("ab\x07"),
                                 std::string("    "), std::string("小哥 #0001")}) {
    refused(v1::RANKING_NAME_CHOICE_NICKNAME, &bad, "nickname");
  }
  refused(v1::RANKING_NAME_CHOICE_UNSPECIFIED, nullptr, "ranking_name_choice");
  refused(static_cast<v1::RankingNameChoice>(9), nullptr, "ranking_name_choice");
  // NICKNAME with no nickname stored, and clearing the nickname in use.
  refused(v1::RANKING_NAME_CHOICE_NICKNAME, nullptr, "ranking_name_choice");
  const std::string ok = "Rider 6";
  ASSERT_TRUE(Choose(token, v1::RANKING_NAME_CHOICE_NICKNAME, &ok, &resp).ok());
  const std::string none;
  refused(v1::RANKING_NAME_CHOICE_UNSPECIFIED, &none, "nickname");
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT nickname FROM people WHERE person_id = '",
                                  rider.person().person_id(), "'")),
            "Rider 6");
}

}  // namespace
}  // namespace civicpoints::identity
