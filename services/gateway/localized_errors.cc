#include "services/gateway/localized_errors.h"

#include <string>

#include "common/labels/label_catalogue.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace civicpoints::gateway {

grpc::Status WithLocalizedMessage(const grpc::Status& status, labels::Locale locale,
                                  const labels::LabelCatalogue& catalogue) {
  if (status.ok()) return status;
  google::rpc::Status rich;
  if (status.error_details().empty() || !rich.ParseFromString(status.error_details())) {
    rich.Clear();
    rich.set_code(static_cast<int>(status.error_code()));
    rich.set_message(status.error_message());
  }
  const std::string* sentence = nullptr;
  google::protobuf::RepeatedPtrField<google::protobuf::Any> kept;
  for (google::protobuf::Any& detail : *rich.mutable_details()) {
    if (detail.Is<google::rpc::LocalizedMessage>()) continue;
    google::rpc::ErrorInfo info;
    if (sentence == nullptr && detail.UnpackTo(&info)) {
      sentence = catalogue.ReasonLabel(info.domain(), info.reason(), locale);
    }
    *kept.Add() = std::move(detail);
  }
  if (sentence == nullptr)
    sentence = catalogue.CodeLabel(static_cast<int>(status.error_code()), locale);
  if (sentence == nullptr) return status;
  google::rpc::LocalizedMessage localized;
  localized.set_locale(std::string(labels::LocaleTag(locale)));
  localized.set_message(*sentence);
  kept.Add()->PackFrom(localized);
  rich.mutable_details()->Swap(&kept);
  return grpc::Status(status.error_code(), status.error_message(), rich.SerializeAsString());
}

}  // namespace civicpoints::gateway
