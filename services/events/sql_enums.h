// The proto enums whose values the events service's SQL names (common/pg/sql_enums.h):
// webhook_state().
#ifndef CIVICPOINTS_SERVICES_EVENTS_SQL_ENUMS_H_
#define CIVICPOINTS_SERVICES_EVENTS_SQL_ENUMS_H_

#include "civicpoints/events/v1/webhook.pb.h"
#include "common/pg/sql_enums.h"

namespace civicpoints::events {

inline pg::SqlEnums EventsSqlEnums() { return {v1::WebhookState_descriptor()}; }

}  // namespace civicpoints::events

#endif  // CIVICPOINTS_SERVICES_EVENTS_SQL_ENUMS_H_
