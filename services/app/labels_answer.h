// ListLabels' answer: the built-in label catalogue (common/labels) in the caller's language.
#ifndef CIVICPOINTS_SERVICES_APP_LABELS_ANSWER_H_
#define CIVICPOINTS_SERVICES_APP_LABELS_ANSWER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "civicpoints/app/v1/app_service.pb.h"

namespace civicpoints::labels {
class LabelCatalogue;
}

namespace civicpoints::app {

// The labels of every enum of `catalogue` in the language `req.locale` names, or, when it is
// empty, the one `accept_language` (the caller's header) prefers. Errors: INVALID_ARGUMENT naming
// `locale` when it is not a language offered.
absl::StatusOr<v1::ListLabelsResponse> LabelsAnswer(const labels::LabelCatalogue& catalogue,
                                                    const v1::ListLabelsRequest& req,
                                                    absl::string_view accept_language);

}  // namespace civicpoints::app

#endif  // CIVICPOINTS_SERVICES_APP_LABELS_ANSWER_H_
