#include "common/base/request_hash.h"

#include <gtest/gtest.h>

#include "google/protobuf/timestamp.pb.h"

namespace civicpoints {
namespace {

google::protobuf::Timestamp At(int64_t seconds, int32_t nanos) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  ts.set_nanos(nanos);
  return ts;
}

TEST(RequestHashTest, IsTheSha256OfTheSerialisedRequest) {
  // An empty message serialises to no bytes: SHA-256 of "" is e3b0c442...b855.
  const std::string digest = RequestHash(google::protobuf::Timestamp());
  ASSERT_EQ(digest.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(digest[0]), 0xe3);
  EXPECT_EQ(static_cast<unsigned char>(digest[31]), 0x55);
}

TEST(RequestHashTest, TellsRequestsApartUnlessTheDifferenceIsTheOmittedField) {
  EXPECT_EQ(RequestHash(At(1, 5)), RequestHash(At(1, 5)));
  EXPECT_NE(RequestHash(At(1, 5)), RequestHash(At(1, 6)));
  EXPECT_EQ(RequestHash(At(1, 5), "nanos"), RequestHash(At(1, 6), "nanos"));
  EXPECT_NE(RequestHash(At(1, 5), "nanos"), RequestHash(At(2, 5), "nanos"));
  // A field the message does not have leaves the hash as it is.
  EXPECT_EQ(RequestHash(At(1, 5), "idempotency_key"), RequestHash(At(1, 5)));
}

}  // namespace
}  // namespace civicpoints
