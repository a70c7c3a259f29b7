// The gateway's route table as the fuzz targets share it: built once from the linked contracts,
// as the gateway builds it at start.
#ifndef CIVICPOINTS_TESTS_FUZZ_FUZZ_ROUTES_H_
#define CIVICPOINTS_TESTS_FUZZ_FUZZ_ROUTES_H_

#include "services/gateway/route_table.h"
#include "tests/fuzz/fuzz_support.h"

namespace civicpoints::fuzz {

inline const gateway::RouteTable& Routes() {
  static const gateway::RouteTable* table = [] {
    absl::StatusOr<gateway::RouteTable> built =
        gateway::RouteTable::Build(gateway::DefaultServices());
    FUZZ_CHECK(built.ok());
    return new gateway::RouteTable(*std::move(built));
  }();
  return *table;
}

}  // namespace civicpoints::fuzz

#endif  // CIVICPOINTS_TESTS_FUZZ_FUZZ_ROUTES_H_
