#include "common/labels/label_catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/suite_services.h"
#include "common/base/text.h"
#include "google/protobuf/descriptor.h"

std::vector<std::pair<std::string, std::string>> EmbeddedLabelCatalogue();

namespace civicpoints::labels {
namespace {

namespace gp = google::protobuf;
using ::testing::HasSubstr;

const gp::DescriptorPool& Pool() { return *gp::DescriptorPool::generated_pool(); }

absl::Status ParseOne(const std::string& json) {
  return LabelCatalogue::Parse({{"test.json", json}}, Pool()).status();
}

bool Has(const std::vector<const gp::EnumDescriptor*>& enums, absl::string_view name) {
  return std::any_of(enums.begin(), enums.end(),
                     [&](const gp::EnumDescriptor* e) { return e->full_name() == name; });
}

TEST(LabelCatalogueTest, TheBuiltInCatalogueParses) {
  absl::StatusOr<LabelCatalogue> parsed = LabelCatalogue::Parse(EmbeddedLabelCatalogue(), Pool());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->version(), LabelCatalogue::Builtin().version());
  EXPECT_EQ(parsed->version().size(), 32u);
}

// The promise of ListLabels: no enum a rider or staff member meets lacks a label in any language.
TEST(LabelCatalogueTest, EveryValueOfEveryShownEnumHasALabelInEveryLocale) {
  const LabelCatalogue& catalogue = LabelCatalogue::Builtin();
  std::vector<std::string> missing;
  for (const gp::EnumDescriptor* type : ShownEnums(Pool())) {
    for (int i = 0; i < type->value_count(); ++i) {
      const gp::EnumValueDescriptor* value = type->value(i);
      if (value->number() == 0) continue;
      for (Locale locale : kLocales) {
        if (catalogue.Label(*value, locale) == nullptr) {
          missing.push_back(absl::StrCat(value->full_name(), " (", LocaleTag(locale), ")"));
        }
      }
    }
  }
  EXPECT_TRUE(missing.empty()) << "no label in common/labels/catalogue for:\n  "
                               << absl::StrJoin(missing, "\n  ");
}

TEST(LabelCatalogueTest, LabelsOnlyEnumsSomeoneMeets) {
  const std::vector<const gp::EnumDescriptor*> shown = ShownEnums(Pool());
  for (const gp::EnumDescriptor* type : LabelCatalogue::Builtin().enums()) {
    EXPECT_TRUE(Has(shown, type->full_name())) << type->full_name() << " is labelled, never shown";
  }
}

TEST(LabelCatalogueTest, ShownEnumsReachEveryServicesAnswersAndRefusals) {
  for (const auth::SuiteService& s : auth::kSuiteServices) {
    EXPECT_NE(Pool().FindServiceByName(s.full_name), nullptr) << s.full_name;
  }
  const std::vector<const gp::EnumDescriptor*> shown = ShownEnums(Pool());
  for (const char* name :
       {"civicpoints.activity.v1.ActivityCategory", "civicpoints.activity.v1.ServiceRecordKind",
        "civicpoints.activity.v1.PlaceServiceType", "civicpoints.activity.v1.PostKind",
        "civicpoints.activity.v1.ServiceRecordStatus",
        "civicpoints.activity.v1.ActivityErrorReason",
        "civicpoints.identity.v1.IdentityErrorReason", "civicpoints.identity.v1.RankingNameChoice",
        "civicpoints.ledger.v1.LedgerErrorReason", "civicpoints.rewards.v1.ErrorReason",
        "civicpoints.rewards.v1.RedemptionState", "civicpoints.events.v1.EventsErrorReason",
        "civicpoints.insights.v1.InsightsErrorReason", "civicpoints.common.v1.Role",
        "google.rpc.Code"}) {
    EXPECT_TRUE(Has(shown, name)) << name;
  }
  for (const gp::EnumDescriptor* type : shown) {
    EXPECT_FALSE(absl::StartsWith(type->full_name(), "civicpoints.options.")) << type->full_name();
    EXPECT_FALSE(absl::StartsWith(type->full_name(), "google.protobuf.")) << type->full_name();
  }
}

// Labels fit where apps put them: a picker or a badge for most, a line of a message for reasons.
TEST(LabelCatalogueTest, LabelsAreShortAndReasonsAreSentences) {
  const LabelCatalogue& catalogue = LabelCatalogue::Builtin();
  for (const gp::EnumDescriptor* type : catalogue.enums()) {
    const bool sentence = IsErrorReasonEnum(*type) || type->full_name() == "google.rpc.Code";
    for (int i = 0; i < type->value_count(); ++i) {
      const gp::EnumValueDescriptor& value = *type->value(i);
      if (value.number() == 0) continue;
      const std::string& zh = *catalogue.Label(value, Locale::kZhCn);
      const std::string& en = *catalogue.Label(value, Locale::kEn);
      EXPECT_TRUE(text::Utf8Length(zh).has_value() && text::Utf8Length(en).has_value())
          << value.full_name();
      if (sentence) {
        EXPECT_LE(text::CountChars(zh), 60u) << value.full_name() << ": " << zh;
        EXPECT_LE(text::CountChars(en), 160u) << value.full_name() << ": " << en;
        EXPECT_TRUE(absl::EndsWith(zh, "。")) << value.full_name() << ": " << zh;
        EXPECT_TRUE(absl::EndsWith(en, ".")) << value.full_name() << ": " << en;
      } else {
        EXPECT_LE(text::CountChars(zh), 12u) << value.full_name() << ": " << zh;
        EXPECT_LE(text::CountChars(en), 40u) << value.full_name() << ": " << en;
        EXPECT_FALSE(absl::EndsWith(zh, "。") || absl::EndsWith(en, "."))
            << value.full_name() << " is a label, not a sentence";
      }
    }
  }
}

TEST(LabelCatalogueTest, FindsAReasonByItsErrorInfoSpelling) {
  const LabelCatalogue& catalogue = LabelCatalogue::Builtin();
  const gp::EnumValueDescriptor* expired = Pool().FindEnumValueByName(
      "civicpoints.activity.v1.ACTIVITY_ERROR_REASON_CHECK_IN_CODE_EXPIRED");
  ASSERT_NE(expired, nullptr);
  const std::string* zh =
      catalogue.ReasonLabel("activity.civicpoints", "CHECK_IN_CODE_EXPIRED", Locale::kZhCn);
  ASSERT_NE(zh, nullptr);
  EXPECT_EQ(zh, catalogue.Label(*expired, Locale::kZhCn));
  EXPECT_NE(catalogue.ReasonLabel("rewards.civicpoints", "OUT_OF_STOCK", Locale::kEn), nullptr);
  // The reason must match its domain, and the full value name is not how ErrorInfo spells it.
  EXPECT_EQ(catalogue.ReasonLabel("rewards.civicpoints", "CHECK_IN_CODE_EXPIRED", Locale::kEn),
            nullptr);
  EXPECT_EQ(catalogue.ReasonLabel("activity.civicpoints",
                                  "ACTIVITY_ERROR_REASON_CHECK_IN_CODE_EXPIRED", Locale::kEn),
            nullptr);
  EXPECT_EQ(catalogue.ReasonLabel("activity.civicpoints", "NO_SUCH_REASON", Locale::kEn), nullptr);
}

TEST(LabelCatalogueTest, FindsTheGeneralSentenceOfAStatusCode) {
  const LabelCatalogue& catalogue = LabelCatalogue::Builtin();
  for (int code = 1; code <= 16; ++code) {
    EXPECT_NE(catalogue.CodeLabel(code, Locale::kEn), nullptr) << code;
    EXPECT_NE(catalogue.CodeLabel(code, Locale::kZhCn), nullptr) << code;
  }
  EXPECT_EQ(catalogue.CodeLabel(0, Locale::kEn), nullptr);
  EXPECT_EQ(catalogue.CodeLabel(17, Locale::kEn), nullptr);
}

TEST(LabelCatalogueParseTest, NamesTheEntryAtFault) {
  EXPECT_THAT(ParseOne("[1]").message(), HasSubstr("test.json: is not a JSON object"));
  EXPECT_THAT(ParseOne("{").message(), HasSubstr("is not a JSON object"));
  EXPECT_THAT(ParseOne(R"({"civicpoints.activity.v1.NoSuchEnum": {}})").message(),
              HasSubstr("civicpoints.activity.v1.NoSuchEnum: no such enum"));
  EXPECT_THAT(ParseOne(R"({"civicpoints.activity.v1.PostKind": []})").message(),
              HasSubstr("is not an object of values"));
  EXPECT_THAT(
      ParseOne(R"({"civicpoints.activity.v1.PostKind": {"POST_KIND_ASTRONAUT": {}}})").message(),
      HasSubstr("PostKind.POST_KIND_ASTRONAUT: no such value"));
  EXPECT_THAT(ParseOne(R"({"civicpoints.activity.v1.PostKind":
                           {"POST_KIND_UNSPECIFIED": {"zh-CN": "未知", "en": "Unknown"}}})")
                  .message(),
              HasSubstr("the zero value is never shown"));
  EXPECT_THAT(ParseOne(R"({"civicpoints.activity.v1.PostKind":
                           {"POST_KIND_MOBILE_GRID_MONITOR": {"zh-CN": "流动网格员"}}})")
                  .message(),
              HasSubstr("needs exactly one label per offered locale"));
  EXPECT_THAT(ParseOne(R"({"civicpoints.activity.v1.PostKind":
                           {"POST_KIND_MOBILE_GRID_MONITOR": {"zh-CN": "流动网格员", "fr": "x"}}})")
                  .message(),
              HasSubstr("the en label is missing or empty"));
  EXPECT_THAT(ParseOne(R"({"civicpoints.activity.v1.PostKind":
                           {"POST_KIND_MOBILE_GRID_MONITOR": {"zh-CN": "", "en": "Grid"}}})")
                  .message(),
              HasSubstr("the zh-CN label is missing or empty"));
  const std::string one = R"({"civicpoints.activity.v1.PostKind":
      {"POST_KIND_MOBILE_GRID_MONITOR": {"zh-CN": "流动网格员", "en": "Grid"}}})";
  absl::Status twice = LabelCatalogue::Parse({{"a.json", one}, {"b.json", one}}, Pool()).status();
  EXPECT_EQ(twice.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(twice.message(), HasSubstr("b.json: civicpoints.activity.v1.PostKind: is labelled "
                                         "in two places"));
}

TEST(LabelCatalogueParseTest, TheVersionFollowsEveryLabel) {
  const std::string a = R"({"civicpoints.activity.v1.PostKind":
      {"POST_KIND_MOBILE_GRID_MONITOR": {"zh-CN": "流动网格员", "en": "Grid"}}})";
  const std::string b = R"({"civicpoints.activity.v1.PostKind":
      {"POST_KIND_MOBILE_GRID_MONITOR": {"zh-CN": "流动网格员", "en": "Grid monitor"}}})";
  absl::StatusOr<LabelCatalogue> first = LabelCatalogue::Parse({{"x.json", a}}, Pool());
  absl::StatusOr<LabelCatalogue> again = LabelCatalogue::Parse({{"y.json", a}}, Pool());
  absl::StatusOr<LabelCatalogue> changed = LabelCatalogue::Parse({{"x.json", b}}, Pool());
  ASSERT_TRUE(first.ok() && again.ok() && changed.ok());
  EXPECT_EQ(first->version(), again->version());
  EXPECT_NE(first->version(), changed->version());
}

}  // namespace
}  // namespace civicpoints::labels
