// Every public method's request as its handler first meets it: the bytes parsed as the method's
// message, the request's fingerprint for idempotency (RequestHash), a list's page size and page
// token read against the tag of its filters, and the message through the REST face's JSON both
// ways. The first line names the method by its gRPC path ("/civicpoints.ledger.v1.LedgerService/
// GetBalance"; a name of no method picks one by its hash); the rest is the message.
// Properties: a message that parses hashes the same as its deterministic re-encoding, paging
// refuses with INVALID_ARGUMENT, and JSON printed from a message builds the same message back
// through the gateway's transcoder.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <functional>
#include <memory>
#include <vector>

#include "common/base/request_hash.h"
#include "common/pg/paging.h"
#include "services/gateway/json_transcoder.h"
#include "services/gateway/route_table.h"
#include "tests/fuzz/fuzz_routes.h"
#include "tests/fuzz/fuzz_support.h"

namespace civicpoints::fuzz {
namespace {

namespace gp = google::protobuf;

// The paging a list handler starts with (pg::StartPaging), by reflection.
void ReadPaging(const gp::Message& request) {
  const gp::Descriptor* type = request.GetDescriptor();
  const gp::FieldDescriptor* size_field = type->FindFieldByName("page_size");
  const gp::FieldDescriptor* token_field = type->FindFieldByName("page_token");
  if (size_field == nullptr || token_field == nullptr) return;
  const gp::Reflection* reflection = request.GetReflection();
  const absl::StatusOr<int> size = pg::PageSize(reflection->GetInt32(request, size_field));
  if (!size.ok()) FUZZ_CHECK(size.status().code() == absl::StatusCode::kInvalidArgument);
  std::unique_ptr<gp::Message> filters(request.New());
  filters->CopyFrom(request);
  filters->GetReflection()->ClearField(filters.get(), size_field);
  filters->GetReflection()->ClearField(filters.get(), token_field);
  for (size_t keys = 1; keys <= 2; ++keys) {
    const absl::StatusOr<std::vector<std::string>> after = pg::DecodePageToken(
        reflection->GetString(request, token_field), pg::FilterTag(*filters), keys);
    if (!after.ok()) FUZZ_CHECK(after.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

// Whether a FieldMask path survives the proto3 JSON mapping, which writes paths in lowerCamelCase
// and reads them back to snake_case: lower-case words joined by single underscores ("di_1" comes
// back "di1"; no field of the contracts is named so).
bool RoundTripsAsJson(const std::string& path) {
  bool word_start = true;
  for (char c : path) {
    if (c == '_' || c == '.') {
      if (word_start) return false;
      word_start = true;
    } else if (c >= 'a' && c <= 'z') {
      word_start = false;
    } else {
      return false;
    }
  }
  return !word_start;
}

// Drops the update masks' paths the JSON mapping cannot carry (see RoundTripsAsJson).
void KeepJsonablePaths(gp::Message& request) {
  const gp::Reflection* reflection = request.GetReflection();
  for (int i = 0; i < request.GetDescriptor()->field_count(); ++i) {
    const gp::FieldDescriptor* f = request.GetDescriptor()->field(i);
    if (f->is_repeated() || f->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE ||
        f->message_type()->full_name() != "google.protobuf.FieldMask" ||
        !reflection->HasField(request, f)) {
      continue;
    }
    gp::Message* mask = reflection->MutableMessage(&request, f);
    const gp::FieldDescriptor* paths = mask->GetDescriptor()->FindFieldByName("paths");
    std::vector<std::string> kept;
    for (int j = 0; j < mask->GetReflection()->FieldSize(*mask, paths); ++j) {
      std::string p = mask->GetReflection()->GetRepeatedString(*mask, paths, j);
      if (RoundTripsAsJson(p)) kept.push_back(std::move(p));
    }
    mask->GetReflection()->ClearField(mask, paths);
    for (std::string& p : kept) mask->GetReflection()->AddString(mask, paths, std::move(p));
  }
}

void ThroughJson(const gateway::Route& route, const gp::Message& request) {
  if (route.http_verb != "POST" && route.http_verb != "PUT" && route.http_verb != "PATCH") return;
  std::string json;
  if (!gp::util::MessageToJsonString(request, &json).ok()) return;
  const absl::StatusOr<std::string> built = gateway::BuildRequest(route, {}, {}, json);
  FUZZ_CHECK(built.ok());
  std::unique_ptr<gp::Message> back(request.New());
  FUZZ_CHECK(back->ParseFromString(*built));
  // NaN is printed "NaN" and read back as NaN, which equals nothing unless told.
  gp::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  gp::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  FUZZ_CHECK(differencer.Compare(*back, request));
}

}  // namespace
}  // namespace civicpoints::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace civicpoints;
  namespace gp = google::protobuf;
  fuzz::FuzzInput in(data, size);
  const std::string path = in.Line();
  const gateway::Route* named = fuzz::Routes().FindGrpc(path);
  const auto& routes = fuzz::Routes().routes();
  const gateway::Route& route =
      named != nullptr ? *named : *routes[std::hash<std::string>()(path) % routes.size()];
  const std::string bytes = in.Rest();
  std::unique_ptr<gp::Message> request(
      gp::MessageFactory::generated_factory()->GetPrototype(route.method->input_type())->New());
  if (!request->ParseFromString(bytes)) return 0;  // answered INVALID_ARGUMENT by the host
  request->DiscardUnknownFields();
  fuzz::KeepJsonablePaths(*request);

  std::string deterministic;
  {
    gp::io::StringOutputStream out(&deterministic);
    gp::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    request->SerializeToCodedStream(&coded);
  }
  std::unique_ptr<gp::Message> reread(request->New());
  FUZZ_CHECK(reread->ParseFromString(deterministic));
  FUZZ_CHECK(RequestHash(*reread) == RequestHash(*request));
  FUZZ_CHECK(RequestHash(*request).size() == 32);

  fuzz::ReadPaging(*request);
  fuzz::ThroughJson(route, *request);
  return 0;
}
