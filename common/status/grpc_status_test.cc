#include "common/status/grpc_status.h"

#include <gtest/gtest.h>

#include "common/status/status_macros.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace civicpoints {
namespace {

TEST(GrpcStatusTest, OkMapsToOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatusTest, EveryCodeRoundTripsWithItsMessage) {
  for (int code = 1; code <= 16; ++code) {
    absl::Status in(static_cast<absl::StatusCode>(code), "message " + std::to_string(code));
    grpc::Status wire = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(wire.error_code()), code);
    EXPECT_EQ(wire.error_message(), "message " + std::to_string(code));
    EXPECT_EQ(FromGrpcStatus(wire), in);
  }
}

TEST(GrpcStatusTest, SpecificCodesKeepTheirMeaning) {
  EXPECT_EQ(ToGrpcStatus(absl::FailedPreconditionError("balance")).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("rate")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")).code(),
            absl::StatusCode::kUnavailable);
}

TEST(GrpcStatusTest, UnknownWireCodeBecomesUnknown) {
  grpc::Status odd(static_cast<grpc::StatusCode>(20), "from the future");
  absl::Status mapped = FromGrpcStatus(odd);
  EXPECT_EQ(mapped.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(mapped.message(), "from the future");
}

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::StatusOr<int> Quarter(int n) {
  ASSIGN_OR_RETURN(int half, Half(n));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int n) {
  RETURN_IF_ERROR(Half(n).status());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).code(), absl::StatusCode::kInvalidArgument);
}

TEST(GrpcStatusTest, RetryInfoAndErrorInfoTravelAsGoogleRpcDetails) {
  absl::Status in =
      WithErrorReason(WithRetryDelay(absl::ResourceExhaustedError("slow down"), absl::Seconds(42)),
                      "TOO_MANY_ATTEMPTS", "identity.civicpoints");
  in.SetPayload("example.com/private", absl::Cord("not sent"));
  grpc::Status wire = ToGrpcStatus(in);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(wire.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(details.message(), "slow down");
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::RetryInfo retry;
  google::rpc::ErrorInfo reason;
  for (const auto& any : details.details()) {
    if (any.type_url() == "type.googleapis.com/google.rpc.RetryInfo") {
      ASSERT_TRUE(any.UnpackTo(&retry));
    } else {
      ASSERT_TRUE(any.UnpackTo(&reason));
    }
  }
  EXPECT_EQ(retry.retry_delay().seconds(), 42);
  EXPECT_EQ(reason.reason(), "TOO_MANY_ATTEMPTS");
  // And back, as a client reads it.
  absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(RetryDelayOf(back), absl::Seconds(42));
  EXPECT_FALSE(back.GetPayload("example.com/private").has_value());
  // A plain error carries no details at all.
  EXPECT_TRUE(ToGrpcStatus(absl::NotFoundError("x")).error_details().empty());
  EXPECT_FALSE(RetryDelayOf(absl::NotFoundError("x")).has_value());
}

}  // namespace
}  // namespace civicpoints

namespace civicpoints {
namespace {

TEST(GrpcCodeNameTest, NamesEveryCodeAndAnUnknownNumber) {
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
  EXPECT_STREQ(GrpcCodeName(static_cast<grpc::StatusCode>(20)), "UNKNOWN");
}

}  // namespace
}  // namespace civicpoints
