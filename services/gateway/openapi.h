// The OpenAPI 3 document of the REST face, generated from the same method options the gateway
// routes by: one operation per method with a REST route (path variables, query parameters for
// GET/DELETE, a JSON body for POST/PUT/PATCH), schemas of every message reached, in the proto3
// JSON mapping, and the roles allowed (x-civicpoints-access). Served at /openapi.json.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_OPENAPI_H_
#define CIVICPOINTS_SERVICES_GATEWAY_OPENAPI_H_

#include <string>

#include "services/gateway/route_table.h"

namespace civicpoints::gateway {

// The document as JSON text.
std::string OpenApiJson(const RouteTable& routes);

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_OPENAPI_H_
