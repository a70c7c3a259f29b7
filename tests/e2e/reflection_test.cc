// Server reflection at the one door: what grpcurl and Postman do against the running gateway
// (list the services, then describe one from the files reflection sends) finds the five services
// it forwards, and a method described that way can be called through the gateway.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/probe/probe.h"
#include "tests/e2e/suite_client.h"

namespace civicpoints::e2e {
namespace {

namespace gp = ::google::protobuf;
using ::testing::IsSupersetOf;

class ReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string addr = SuiteSetting("CP_SUITE_GATEWAY_ADDR");
    ASSERT_FALSE(addr.empty()) << "run under the cp_suite fixture";
    channel_ = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  }

  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ReflectionTest, TheGatewayListsEveryServiceItForwards) {
  absl::StatusOr<std::vector<std::string>> names = probe::ListServices(channel_, absl::Seconds(5));
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(
      *names,
      IsSupersetOf(
          {"civicpoints.identity.v1.IdentityService", "civicpoints.activity.v1.ActivityService",
           "civicpoints.ledger.v1.LedgerService", "civicpoints.rewards.v1.RewardsService",
           "civicpoints.events.v1.EventService", "grpc.health.v1.Health",
           "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}));
}

// Describe a public read from reflection alone, build its request dynamically, call it through
// the gateway and read the answer with the described response type: nothing compiled in.
TEST_F(ReflectionTest, AMethodDescribedByReflectionCanBeCalledThroughTheGateway) {
  absl::StatusOr<std::vector<std::string>> files =
      probe::FilesForSymbol(channel_, "civicpoints.identity.v1.IdentityService", absl::Seconds(5));
  ASSERT_TRUE(files.ok()) << files.status();
  gp::SimpleDescriptorDatabase db;
  for (const std::string& bytes : *files) {
    gp::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    ASSERT_TRUE(db.Add(file)) << file.name();
  }
  gp::DescriptorPool pool(&db);
  const gp::ServiceDescriptor* identity =
      pool.FindServiceByName("civicpoints.identity.v1.IdentityService");
  ASSERT_NE(identity, nullptr);
  const gp::MethodDescriptor* list = identity->FindMethodByName("ListPublicKeys");
  ASSERT_NE(list, nullptr) << "identity's public key list (public, no token needed)";

  gp::DynamicMessageFactory factory(&pool);
  std::unique_ptr<gp::Message> request(factory.GetPrototype(list->input_type())->New());
  std::string request_bytes;
  ASSERT_TRUE(request->SerializeToString(&request_bytes));
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer sent(&slice, 1), received;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/civicpoints.identity.v1.IdentityService/ListPublicKeys",
                 grpc::StubOptions(), &sent, &received,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  grpc::Slice flat;
  ASSERT_TRUE(received.DumpToSingleSlice(&flat).ok());
  std::unique_ptr<gp::Message> response(factory.GetPrototype(list->output_type())->New());
  ASSERT_TRUE(response->ParseFromArray(flat.begin(), static_cast<int>(flat.size())));
  const gp::FieldDescriptor* keys = list->output_type()->FindFieldByName("keys");
  ASSERT_NE(keys, nullptr);
  EXPECT_GE(response->GetReflection()->FieldSize(*response, keys), 1) << response->DebugString();
}

}  // namespace
}  // namespace civicpoints::e2e
