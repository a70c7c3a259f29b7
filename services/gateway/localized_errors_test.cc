#include "services/gateway/localized_errors.h"

#include <gtest/gtest.h>

#include "common/labels/label_catalogue.h"
#include "common/status/grpc_status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace civicpoints::gateway {
namespace {

using labels::LabelCatalogue;
using labels::Locale;

google::rpc::Status Details(const grpc::Status& status) {
  google::rpc::Status rich;
  EXPECT_TRUE(rich.ParseFromString(status.error_details()));
  return rich;
}

// The LocalizedMessages `status` carries.
std::vector<google::rpc::LocalizedMessage> Localized(const grpc::Status& status) {
  std::vector<google::rpc::LocalizedMessage> out;
  const google::rpc::Status rich = Details(status);
  for (const google::protobuf::Any& detail : rich.details()) {
    google::rpc::LocalizedMessage m;
    if (detail.UnpackTo(&m)) out.push_back(m);
  }
  return out;
}

grpc::Status Refusal(absl::string_view reason, absl::string_view domain) {
  const std::string message = "code k1 rotated away";
  google::rpc::Status rich;
  rich.set_code(grpc::StatusCode::FAILED_PRECONDITION);
  rich.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(domain));
  info.mutable_metadata()->insert({"attempts_left", "3"});
  rich.add_details()->PackFrom(info);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(5);
  rich.add_details()->PackFrom(retry);
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, message, rich.SerializeAsString());
}

TEST(LocalizedErrorsTest, AReasonGetsItsOwnSentenceAndKeepsEveryOtherDetail) {
  const LabelCatalogue& catalogue = LabelCatalogue::Builtin();
  const grpc::Status in = Refusal("CHECK_IN_CODE_EXPIRED", "activity.civicpoints");
  for (Locale locale : labels::kLocales) {
    const grpc::Status out = WithLocalizedMessage(in, locale, catalogue);
    EXPECT_EQ(out.error_code(), in.error_code());
    EXPECT_EQ(out.error_message(), in.error_message());  // the developer's message stays
    const std::vector<google::rpc::LocalizedMessage> localized = Localized(out);
    ASSERT_EQ(localized.size(), 1u);
    EXPECT_EQ(localized[0].locale(), labels::LocaleTag(locale));
    EXPECT_EQ(localized[0].message(),
              *catalogue.ReasonLabel("activity.civicpoints", "CHECK_IN_CODE_EXPIRED", locale));
    const google::rpc::Status rich = Details(out);
    ASSERT_EQ(rich.details_size(), 3);
    google::rpc::ErrorInfo info;
    ASSERT_TRUE(rich.details(0).UnpackTo(&info));
    EXPECT_EQ(info.metadata().at("attempts_left"), "3");
    EXPECT_TRUE(rich.details(1).Is<google::rpc::RetryInfo>());
  }
  EXPECT_NE(Localized(WithLocalizedMessage(in, Locale::kEn, catalogue))[0].message(),
            Localized(WithLocalizedMessage(in, Locale::kZhCn, catalogue))[0].message());
}

TEST(LocalizedErrorsTest, AnErrorWithoutAReasonGetsItsCodesSentence) {
  const LabelCatalogue& catalogue = LabelCatalogue::Builtin();
  const grpc::Status in(grpc::StatusCode::INVALID_ARGUMENT,
                        "nickname: is longer than 12 characters");
  const grpc::Status out = WithLocalizedMessage(in, Locale::kZhCn, catalogue);
  EXPECT_EQ(out.error_message(), in.error_message());
  const google::rpc::Status rich = Details(out);
  EXPECT_EQ(rich.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(rich.message(), in.error_message());
  const std::vector<google::rpc::LocalizedMessage> localized = Localized(out);
  ASSERT_EQ(localized.size(), 1u);
  EXPECT_EQ(localized[0].locale(), "zh-CN");
  EXPECT_EQ(localized[0].message(), *catalogue.CodeLabel(3, Locale::kZhCn));
  // An unknown reason (another system's, or a newer one) falls back to the code's sentence too.
  const grpc::Status foreign = WithLocalizedMessage(
      Refusal("NO_SUCH_REASON", "activity.civicpoints"), Locale::kEn, catalogue);
  EXPECT_EQ(Localized(foreign)[0].message(), *catalogue.CodeLabel(9, Locale::kEn));
}

TEST(LocalizedErrorsTest, ReplacesAnEarlierLocalizedMessageAndLeavesOkAlone) {
  const LabelCatalogue& catalogue = LabelCatalogue::Builtin();
  const grpc::Status once = WithLocalizedMessage(Refusal("OUT_OF_STOCK", "rewards.civicpoints"),
                                                 Locale::kZhCn, catalogue);
  const grpc::Status twice = WithLocalizedMessage(once, Locale::kEn, catalogue);
  const std::vector<google::rpc::LocalizedMessage> localized = Localized(twice);
  ASSERT_EQ(localized.size(), 1u);
  EXPECT_EQ(localized[0].locale(), "en");
  EXPECT_TRUE(WithLocalizedMessage(grpc::Status::OK, Locale::kEn, catalogue).ok());
  EXPECT_TRUE(
      WithLocalizedMessage(grpc::Status::OK, Locale::kEn, catalogue).error_details().empty());
}

}  // namespace
}  // namespace civicpoints::gateway
