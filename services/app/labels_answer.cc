#include "services/app/labels_answer.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/labels/label_catalogue.h"
#include "common/status/refusal.h"
#include "google/protobuf/descriptor.h"

namespace civicpoints::app {

absl::StatusOr<v1::ListLabelsResponse> LabelsAnswer(const labels::LabelCatalogue& catalogue,
                                                    const v1::ListLabelsRequest& req,
                                                    absl::string_view accept_language) {
  labels::Locale locale = labels::NegotiateLocale(accept_language);
  if (!req.locale().empty()) {
    const std::optional<labels::Locale> asked = labels::ParseLocale(req.locale());
    if (!asked) {
      // Echoed only when short: the field is the caller's free text.
      return absl::InvalidArgumentError(absl::StrCat(
          "locale: ", req.locale().size() <= 35 ? absl::StrCat("'", req.locale(), "' ") : "",
          "is not a language offered (zh-CN or en)"));
    }
    locale = *asked;
  }
  v1::ListLabelsResponse out;
  out.set_locale(std::string(labels::LocaleTag(locale)));
  out.set_version(catalogue.version());
  for (const google::protobuf::EnumDescriptor* type : catalogue.enums()) {
    v1::EnumLabels* labels = out.add_enums();
    labels->set_enum_name(type->full_name());
    const bool reasons = labels::IsErrorReasonEnum(*type);
    if (reasons) labels->set_error_domain(ReasonDomain(*type));
    for (int i = 0; i < type->value_count(); ++i) {
      const google::protobuf::EnumValueDescriptor& value = *type->value(i);
      const std::string* text = catalogue.Label(value, locale);
      if (text == nullptr) continue;  // the zero value, or one the catalogue lacks
      v1::ValueLabel* label = labels->add_values();
      label->set_name(value.name());
      label->set_number(value.number());
      label->set_label(*text);
      if (reasons) label->set_reason(ReasonWireName(value));
    }
  }
  return out;
}

}  // namespace civicpoints::app
