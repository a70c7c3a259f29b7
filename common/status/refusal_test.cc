#include "common/status/refusal.h"

#include <gtest/gtest.h>

#include "common/status/grpc_status.h"
#include "cptest/v1/test_service.pb.h"
#include "google/rpc/error_details.pb.h"

namespace civicpoints {
namespace {

google::rpc::ErrorInfo InfoOf(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  auto payload = status.GetPayload("type.googleapis.com/google.rpc.ErrorInfo");
  if (payload.has_value()) info.ParseFromString(std::string(*payload));
  return info;
}

TEST(RefusalTest, SendsTheReasonWithoutTheEnumsPrefixInThePackagesDomain) {
  absl::Status s =
      Refuse(absl::StatusCode::kFailedPrecondition, cptest::v1::TEST_ERROR_REASON_OUT_OF_STOCK,
             "station s1 has none", {{"available_quantity", "0"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "station s1 has none");
  const google::rpc::ErrorInfo info = InfoOf(s);
  EXPECT_EQ(info.reason(), "OUT_OF_STOCK");
  EXPECT_EQ(info.domain(), "cptest.v1");
  EXPECT_EQ(info.metadata().at("available_quantity"), "0");
}

TEST(RefusalTest, ReadsTheReasonBackExactly) {
  absl::Status s = Refuse(absl::StatusCode::kFailedPrecondition,
                          cptest::v1::TEST_ERROR_REASON_NOT_OUT_OF_STOCK, "no");
  EXPECT_EQ(ErrorReasonOf(s), "NOT_OUT_OF_STOCK");
  EXPECT_EQ(ReasonOf<cptest::v1::TestErrorReason>(s),
            cptest::v1::TEST_ERROR_REASON_NOT_OUT_OF_STOCK);
  EXPECT_EQ(ReasonOf<cptest::v1::TestErrorReason>(absl::InternalError("x")),
            cptest::v1::TEST_ERROR_REASON_UNSPECIFIED);
  EXPECT_EQ(ErrorReasonOf(absl::OkStatus()), "");
}

TEST(RefusalTest, WithReasonNamesASharedChecksDenialAndKeepsItsOtherDetails) {
  EXPECT_TRUE(WithReason(absl::OkStatus(), cptest::v1::TEST_ERROR_REASON_OUT_OF_STOCK).ok());
  absl::Status s = WithReason(
      WithRetryDelay(absl::ResourceExhaustedError("too many attempts"), absl::Seconds(7)),
      cptest::v1::TEST_ERROR_REASON_OUT_OF_STOCK);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "too many attempts");
  EXPECT_EQ(ErrorReasonOf(s), "OUT_OF_STOCK");
  EXPECT_EQ(RetryDelayOf(s), absl::Seconds(7));
}

}  // namespace
}  // namespace civicpoints
