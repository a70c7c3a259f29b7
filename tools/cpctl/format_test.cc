#include "tools/cpctl/format.h"

#include "civicpoints/activity/v1/place.pb.h"
#include "gtest/gtest.h"
#include "tools/cpctl/exit_codes.h"
#include "tools/cpctl/place_spec.h"

namespace civicpoints::cpctl {
namespace {

namespace av1 = activity::v1;

TEST(FormatTest, EnumsAreWrittenWithoutPrefixInLowerCase) {
  EXPECT_EQ(*ParseEnum<av1::PlaceKind>("love-corner", "--kind"), av1::PLACE_KIND_LOVE_CORNER);
  EXPECT_EQ(*ParseEnum<av1::PlaceKind>("RIDER_STATION", "--kind"), av1::PLACE_KIND_RIDER_STATION);
  EXPECT_EQ(*ParseEnum<av1::PlaceKind>("PLACE_KIND_ACTIVITY_VENUE", "--kind"),
            av1::PLACE_KIND_ACTIVITY_VENUE);
  absl::StatusOr<av1::PlaceKind> bad = ParseEnum<av1::PlaceKind>("unspecified", "--kind");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "--kind: 'unspecified' is not one of rider-station, love-corner, activity-venue");
  EXPECT_EQ(EnumLabel(av1::PLACE_SERVICE_TYPE_PHONE_CHARGING), "phone-charging");
}

TEST(FormatTest, TimesAreReadInShanghai) {
  absl::StatusOr<absl::Time> t = ParseTime("2026-11-29 10:00", "--start");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(absl::FormatTime(absl::RFC3339_full, *t, absl::UTCTimeZone()),
            "2026-11-29T02:00:00+00:00");
  EXPECT_TRUE(ParseTime("2026-11-29T10:00:00+08:00", "x").ok());
  absl::StatusOr<absl::Time> later = ParseTime("+2h", "x");
  ASSERT_TRUE(later.ok());
  EXPECT_NEAR(absl::ToDoubleHours(*later - absl::Now()), 2, 0.01);
  EXPECT_EQ(ParseTime("tomorrow", "--start").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseDay("2026-02-28", "--from"), "2026-02-28");
  EXPECT_FALSE(ParseDay("2026-13-01", "--from").ok());
}

TEST(PlaceSpecTest, HoursAndServices) {
  av1::Place p;
  ASSERT_TRUE(ParseHours("mon-fri 08:00-20:00; sat 09:00-12:00", "hours", &p).ok());
  ASSERT_EQ(p.opening_hours().periods_size(), 6);
  EXPECT_EQ(p.opening_hours().periods(5).day(), av1::WEEKDAY_SATURDAY);
  EXPECT_EQ(p.opening_hours().periods(5).close_time(), "12:00");
  av1::Place always;
  ASSERT_TRUE(ParseHours("always", "hours", &always).ok());
  EXPECT_TRUE(always.opening_hours().always_open());
  EXPECT_FALSE(ParseHours("fri-mon 08:00-20:00", "hours", &p).ok());
  EXPECT_FALSE(ParseHours("8-20", "hours", &p).ok());
  av1::Place s;
  ASSERT_TRUE(ParseServices("rest; phone-charging,toilet", "services", &s).ok());
  EXPECT_EQ(s.services_size(), 3);
  EXPECT_FALSE(ParseServices("rest;teleport", "services", &s).ok());
}

TEST(ExitCodeTest, ScriptsCanTellWhatWentWrong) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("")), 2);
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("")), 3);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("")), 3);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("")), 4);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("")), 5);
  EXPECT_EQ(ExitCodeFor(absl::AlreadyExistsError("")), 5);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("")), 6);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("")), 6);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("")), 1);
}

}  // namespace
}  // namespace civicpoints::cpctl
