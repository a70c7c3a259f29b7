// Every error the gateway answers, on either face, carries a google.rpc.LocalizedMessage in the
// caller's language (Accept-Language, zh-CN or en): the sentence the label catalogue keeps for
// its ErrorInfo reason, or, for an error without one, the sentence for its status code. The
// English `message` stays as it was: it is for the developer, the LocalizedMessage for the person.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_LOCALIZED_ERRORS_H_
#define CIVICPOINTS_SERVICES_GATEWAY_LOCALIZED_ERRORS_H_

#include <grpcpp/support/status.h>

#include "common/labels/locale.h"

namespace civicpoints::labels {
class LabelCatalogue;
}

namespace civicpoints::gateway {

// `status` with its LocalizedMessage in `locale` (replacing one it had), its other details kept.
// OK, and an error the catalogue has no sentence for, unchanged.
grpc::Status WithLocalizedMessage(const grpc::Status& status, labels::Locale locale,
                                  const labels::LabelCatalogue& catalogue);

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_LOCALIZED_ERRORS_H_
