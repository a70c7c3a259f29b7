#include "services/activity/review_rules.h"

namespace civicpoints::activity {

v1::ServiceRecordStatus StatusAfterAppeal(v1::AppealDecision decision) {
  return decision == v1::APPEAL_DECISION_UPHOLD_APPEAL ? v1::SERVICE_RECORD_STATUS_VERIFIED
                                                       : v1::SERVICE_RECORD_STATUS_APPEAL_DENIED;
}

}  // namespace civicpoints::activity
