#include "common/server/service_host.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/probe/probe.h"
#include "common/testing/slow_test_service.h"
#include "common/testing/test_env.h"
#include "cptest/v1/test_service.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace civicpoints::server {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

using TestServiceImpl = testing::SlowTestService;

class ServiceHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_port_ = testing::FreePort();
    auto host = ServiceHost::Start({.service_name = "test", .metrics_port = metrics_port_},
                                   {{"cptest.v1.TestService", &service_}});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = ::cptest::v1::TestService::NewStub(channel_);
  }

  TestServiceImpl service_;
  int metrics_port_ = 0;
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::cptest::v1::TestService::Stub> stub_;
};

TEST_F(ServiceHostTest, HealthIsServingForTheServerAndEachService) {
  EXPECT_EQ(*probe::CheckHealth(channel_, "", absl::Seconds(2)), "SERVING");
  EXPECT_EQ(*probe::CheckHealth(channel_, "cptest.v1.TestService", absl::Seconds(2)), "SERVING");
  EXPECT_EQ(probe::CheckHealth(channel_, "no.Such", absl::Seconds(2)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ServiceHostTest, ReflectionListsTheServices) {
  absl::StatusOr<std::vector<std::string>> names = probe::ListServices(channel_, absl::Seconds(2));
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, Contains("cptest.v1.TestService"));
  EXPECT_THAT(*names, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(*names, Contains("grpc.reflection.v1alpha.ServerReflection"));
  EXPECT_THAT(*names, Contains("grpc.reflection.v1.ServerReflection"));
}

// What grpcurl does to describe a service: ask for the file that declares it, then build the
// descriptors from the files sent (the service's own and what it imports).
TEST_F(ServiceHostTest, ReflectionDescribesAServiceWithTheFilesItImports) {
  absl::StatusOr<std::vector<std::string>> files =
      probe::FilesForSymbol(channel_, "cptest.v1.TestService", absl::Seconds(2));
  ASSERT_TRUE(files.ok()) << files.status();
  google::protobuf::SimpleDescriptorDatabase db;
  for (const std::string& bytes : *files) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    ASSERT_TRUE(db.Add(file)) << file.name();
  }
  google::protobuf::DescriptorPool pool(&db);
  const google::protobuf::ServiceDescriptor* service =
      pool.FindServiceByName("cptest.v1.TestService");
  ASSERT_NE(service, nullptr);
  const google::protobuf::MethodDescriptor* echo = service->FindMethodByName("Echo");
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->input_type()->full_name(), "cptest.v1.EchoRequest");
  // The method's access option came along (options.proto was among the files).
  EXPECT_NE(pool.FindExtensionByName("civicpoints.options.v1.access"), nullptr);
}

TEST_F(ServiceHostTest, ReflectionNamesWhatItCannotFind) {
  absl::StatusOr<std::vector<std::string>> files =
      probe::FilesForSymbol(channel_, "no.such.Thing", absl::Seconds(2));
  EXPECT_EQ(files.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(files.status().message(), HasSubstr("no.such.Thing"));
}

// v1alpha on one stream, as older tools ask: each file is sent with the dependencies not sent
// before on the stream; the extension questions; a request that asks nothing is refused.
TEST_F(ServiceHostTest, ReflectionV1AlphaAnswersEachQuestionOnOneStream) {
  namespace refl = ::grpc::reflection::v1alpha;
  auto stub = refl::ServerReflection::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  auto stream = stub->ServerReflectionInfo(&ctx);
  auto ask = [&](const refl::ServerReflectionRequest& request) {
    refl::ServerReflectionResponse response;
    EXPECT_TRUE(stream->Write(request));
    EXPECT_TRUE(stream->Read(&response));
    return response;
  };
  refl::ServerReflectionRequest by_name;
  by_name.set_file_by_filename("cptest/v1/test_service.proto");
  refl::ServerReflectionResponse first = ask(by_name);
  const int first_count = first.file_descriptor_response().file_descriptor_proto_size();
  EXPECT_GE(first_count, 3);  // the file, role.proto, options.proto, descriptor.proto
  refl::ServerReflectionResponse again = ask(by_name);
  ASSERT_EQ(again.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(again.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "cptest/v1/test_service.proto");

  refl::ServerReflectionRequest numbers;
  numbers.set_all_extension_numbers_of_type("google.protobuf.MethodOptions");
  EXPECT_THAT(ask(numbers).all_extension_numbers_response().extension_number(), Contains(51001));

  refl::ServerReflectionRequest extension;
  extension.mutable_file_containing_extension()->set_containing_type(
      "google.protobuf.MethodOptions");
  extension.mutable_file_containing_extension()->set_extension_number(51001);
  refl::ServerReflectionResponse ext = ask(extension);
  ASSERT_EQ(ext.file_descriptor_response().file_descriptor_proto_size(), 1);  // the rest was sent
  ASSERT_TRUE(file.ParseFromString(ext.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "civicpoints/options/v1/options.proto");

  refl::ServerReflectionResponse nothing = ask(refl::ServerReflectionRequest());
  EXPECT_EQ(nothing.error_response().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(nothing.error_response().error_message(), HasSubstr("asks nothing"));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServiceHostTest, MethodNotBuiltAnswersUnimplemented) {
  grpc::ClientContext ctx;
  ::cptest::v1::EchoRequest req;
  ::cptest::v1::EchoResponse resp;
  EXPECT_EQ(stub_->Scoped(&ctx, req, &resp).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(ServiceHostTest, RequestThatDoesNotParseIsInvalidArgumentNamingTheMethod) {
  grpc::GenericStub generic(channel_);
  // Field 1 with wire type 7, which does not exist.
  const char bytes[] = "\x0f\x01";
  grpc::Slice slice(bytes, sizeof(bytes) - 1);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/cptest.v1.TestService/Echo", grpc::StubOptions(), &request, &response,
                    [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status status = done.get_future().get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("/cptest.v1.TestService/Echo"));
  EXPECT_THAT(status.error_message(), HasSubstr("cptest.v1.EchoRequest"));

  // The same connection still serves a good call.
  grpc::ClientContext good_ctx;
  ::cptest::v1::EchoRequest req;
  req.set_text("still here");
  ::cptest::v1::EchoResponse resp;
  ASSERT_TRUE(stub_->Echo(&good_ctx, req, &resp).ok());
  EXPECT_EQ(resp.text(), "still here");
}

TEST_F(ServiceHostTest, RequestIdIsKeptOrMadeAndEchoed) {
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-request-id", "r-from-caller");
    ::cptest::v1::EchoRequest req;
    req.set_text("清远");
    ::cptest::v1::EchoResponse resp;
    ASSERT_TRUE(stub_->Echo(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.text(), "清远");
    EXPECT_EQ(service_.seen_request_id(), "r-from-caller");
    auto it = ctx.GetServerInitialMetadata().find("x-request-id");
    ASSERT_NE(it, ctx.GetServerInitialMetadata().end());
    EXPECT_EQ(std::string(it->second.data(), it->second.size()), "r-from-caller");
  }
  {
    grpc::ClientContext ctx;
    ::cptest::v1::EchoRequest req;
    ::cptest::v1::EchoResponse resp;
    ASSERT_TRUE(stub_->Echo(&ctx, req, &resp).ok());
    EXPECT_EQ(service_.seen_request_id().size(), 16u);
  }
}

TEST_F(ServiceHostTest, MetricsCountCallsByMethodAndCode) {
  grpc::ClientContext ctx;
  ::cptest::v1::EchoRequest req;
  ::cptest::v1::EchoResponse resp;
  ASSERT_TRUE(stub_->Echo(&ctx, req, &resp).ok());
  const std::string page = testing::HttpGet(metrics_port_, "/metrics");
  EXPECT_THAT(page, HasSubstr("cp_grpc_server_handled_total"));
  EXPECT_THAT(page, HasSubstr("grpc_method=\"/cptest.v1.TestService/Echo\""));
  EXPECT_THAT(page, HasSubstr("grpc_code=\"OK\""));
  EXPECT_THAT(page, HasSubstr("cp_grpc_server_handling_seconds_bucket"));
}

TEST_F(ServiceHostTest, ShutdownLetsAnInFlightCallFinish) {
  grpc::Status slow_status;
  ::cptest::v1::SlowResponse slow_resp;
  std::thread caller([&] {
    grpc::ClientContext ctx;
    ::cptest::v1::SlowRequest req;
    req.set_sleep_ms(600);
    slow_status = stub_->Slow(&ctx, req, &slow_resp);
  });
  ASSERT_TRUE(testing::WaitFor([&] { return service_.entered.load(); }, absl::Seconds(5)));
  host_->Shutdown(absl::Seconds(5));
  caller.join();
  EXPECT_TRUE(slow_status.ok()) << slow_status.error_message();
  EXPECT_TRUE(slow_resp.finished());
  // And the port no longer accepts calls.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  ::cptest::v1::EchoRequest req;
  ::cptest::v1::EchoResponse resp;
  EXPECT_FALSE(stub_->Echo(&ctx, req, &resp).ok());
}

TEST_F(ServiceHostTest, ShutdownCancelsCallsThatOutlastTheGrace) {
  grpc::Status slow_status;
  std::thread caller([&] {
    grpc::ClientContext ctx;
    ::cptest::v1::SlowRequest req;
    req.set_sleep_ms(30000);
    ::cptest::v1::SlowResponse resp;
    slow_status = stub_->Slow(&ctx, req, &resp);
  });
  ASSERT_TRUE(testing::WaitFor([&] { return service_.entered.load(); }, absl::Seconds(5)));
  const absl::Time start = absl::Now();
  host_->Shutdown(absl::Milliseconds(200));
  caller.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_FALSE(slow_status.ok());
}

TEST(ServiceHostStartTest, BusyPortIsAnErrorNamingTheAddress) {
  TestServiceImpl a, b;
  auto first = ServiceHost::Start({.service_name = "a"}, {{"cptest.v1.TestService", &a}});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ServiceHost::Start({.service_name = "b", .grpc_port = (*first)->grpc_port()},
                                   {{"cptest.v1.TestService", &b}});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("cannot listen"));
}

// 64 callers each holding a call open for a second cannot make a host with 16 threads start 64:
// the calls over the quota are refused at once, and the host keeps answering afterwards.
TEST(ServiceHostThreadsTest, CallsBeyondTheThreadQuotaAreRefusedNotGivenMoreThreads) {
  TestServiceImpl service;
  auto host = ServiceHost::Start({.service_name = "quota", .max_threads = 16},
                                 {{"cptest.v1.TestService", &service}});
  ASSERT_TRUE(host.ok()) << host.status();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*host)->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = ::cptest::v1::TestService::NewStub(channel);
  std::atomic<int> finished{0}, exhausted{0}, other{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 64; ++i) {
    callers.emplace_back([&] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      ::cptest::v1::SlowRequest req;
      req.set_sleep_ms(1000);
      ::cptest::v1::SlowResponse resp;
      grpc::Status s = stub->Slow(&ctx, req, &resp);
      if (s.ok()) {
        ++finished;
      } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++exhausted;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_GT(exhausted.load(), 0);
  EXPECT_GT(finished.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_LE(finished.load(), 64 - exhausted.load());
  // The host still serves once the burst is over.
  grpc::ClientContext ctx;
  ::cptest::v1::EchoRequest req;
  req.set_text("still here");
  ::cptest::v1::EchoResponse resp;
  EXPECT_TRUE(stub->Echo(&ctx, req, &resp).ok());
}

}  // namespace
}  // namespace civicpoints::server
