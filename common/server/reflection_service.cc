#include "common/server/reflection_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace civicpoints::server {
namespace {

namespace gp = ::google::protobuf;

constexpr char kV1Name[] = "grpc.reflection.v1.ServerReflection";
constexpr char kV1AlphaName[] = "grpc.reflection.v1alpha.ServerReflection";

// The two versions differ only in their package; one implementation serves both.
template <typename Service, typename Request, typename Response>
class Reflection : public Service {
 public:
  explicit Reflection(const std::vector<std::string>* names) : names_(names) {}

  grpc::Status ServerReflectionInfo(grpc::ServerContext* context,
                                    grpc::ServerReaderWriter<Response, Request>* stream) override {
    // Files already sent on this stream: a client keeps what it was given, so a dependency it
    // has (descriptor.proto, the common types) is not sent with every answer.
    std::set<std::string> sent;
    Request request;
    while (!context->IsCancelled() && stream->Read(&request)) {
      Response response;
      Answer(request, sent, response);
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

 private:
  void Answer(const Request& request, std::set<std::string>& sent, Response& response) const {
    const gp::DescriptorPool* pool = gp::DescriptorPool::generated_pool();
    response.set_valid_host(request.host());
    *response.mutable_original_request() = request;
    switch (request.message_request_case()) {
      case Request::kListServices:
        for (const std::string& name : *names_) {
          response.mutable_list_services_response()->add_service()->set_name(name);
        }
        return;
      case Request::kFileByFilename: {
        const std::string& name = request.file_by_filename();
        return SendFile(pool->FindFileByName(name), absl::StrCat("no file named '", name, "'"),
                        sent, response);
      }
      case Request::kFileContainingSymbol: {
        const std::string& symbol = request.file_containing_symbol();
        return SendFile(pool->FindFileContainingSymbol(symbol),
                        absl::StrCat("no symbol named '", symbol, "'"), sent, response);
      }
      case Request::kFileContainingExtension: {
        const auto& ext = request.file_containing_extension();
        const gp::Descriptor* type = pool->FindMessageTypeByName(ext.containing_type());
        const gp::FieldDescriptor* field =
            type != nullptr ? pool->FindExtensionByNumber(type, ext.extension_number()) : nullptr;
        return SendFile(field != nullptr ? field->file() : nullptr,
                        absl::StrCat("no extension ", ext.extension_number(), " of '",
                                     ext.containing_type(), "'"),
                        sent, response);
      }
      case Request::kAllExtensionNumbersOfType: {
        const std::string& name = request.all_extension_numbers_of_type();
        const gp::Descriptor* type = pool->FindMessageTypeByName(name);
        if (type == nullptr) {
          return Error(grpc::StatusCode::NOT_FOUND, absl::StrCat("no message type '", name, "'"),
                       response);
        }
        std::vector<const gp::FieldDescriptor*> extensions;
        pool->FindAllExtensions(type, &extensions);
        auto* numbers = response.mutable_all_extension_numbers_response();
        numbers->set_base_type_name(type->full_name());
        for (const gp::FieldDescriptor* f : extensions) numbers->add_extension_number(f->number());
        return;
      }
      default:
        return Error(grpc::StatusCode::INVALID_ARGUMENT,
                     "the reflection request asks nothing (set one of its questions)", response);
    }
  }

  // The file asked for, always, then each of its dependencies (transitively) not yet sent on this
  // stream, so the client can build the file's descriptors.
  static void SendFile(const gp::FileDescriptor* file, const std::string& not_found,
                       std::set<std::string>& sent, Response& response) {
    if (file == nullptr) return Error(grpc::StatusCode::NOT_FOUND, not_found, response);
    auto* files = response.mutable_file_descriptor_response();
    std::vector<const gp::FileDescriptor*> pending = {file};
    sent.insert(file->name());
    while (!pending.empty()) {
      const gp::FileDescriptor* f = pending.back();
      pending.pop_back();
      gp::FileDescriptorProto proto;
      f->CopyTo(&proto);
      proto.SerializeToString(files->add_file_descriptor_proto());
      for (int i = 0; i < f->dependency_count(); ++i) {
        if (sent.insert(f->dependency(i)->name()).second) pending.push_back(f->dependency(i));
      }
    }
  }

  static void Error(grpc::StatusCode code, const std::string& message, Response& response) {
    response.mutable_error_response()->set_error_code(static_cast<int32_t>(code));
    response.mutable_error_response()->set_error_message(message);
  }

  const std::vector<std::string>* const names_;
};

}  // namespace

class ReflectionServices::V1 : public Reflection<grpc::reflection::v1::ServerReflection::Service,
                                                 grpc::reflection::v1::ServerReflectionRequest,
                                                 grpc::reflection::v1::ServerReflectionResponse> {
 public:
  using Reflection::Reflection;
};

class ReflectionServices::V1Alpha
    : public Reflection<grpc::reflection::v1alpha::ServerReflection::Service,
                        grpc::reflection::v1alpha::ServerReflectionRequest,
                        grpc::reflection::v1alpha::ServerReflectionResponse> {
 public:
  using Reflection::Reflection;
};

ReflectionServices::ReflectionServices(std::vector<std::string> service_names)
    : names_(std::move(service_names)) {
  names_.push_back(kV1Name);
  names_.push_back(kV1AlphaName);
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  v1_ = std::make_unique<V1>(&names_);
  v1alpha_ = std::make_unique<V1Alpha>(&names_);
}

ReflectionServices::~ReflectionServices() = default;

std::vector<grpc::Service*> ReflectionServices::services() const {
  return {v1_.get(), v1alpha_.get()};
}

}  // namespace civicpoints::server
