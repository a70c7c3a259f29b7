// The whole suite with the story's demo loaded, for the benchmarks that measure what the demo's
// people see (insights_bench, home_bench): scripts/suite.sh in build/bench-run/<name>-suite on
// ports from `port_base`, set up for load from one address, then cp_demo through its gateway.
#ifndef CIVICPOINTS_TESTS_BENCH_DEMO_SUITE_H_
#define CIVICPOINTS_TESTS_BENCH_DEMO_SUITE_H_

#include <string>

#include "absl/status/statusor.h"
#include "tests/fault/suite_control.h"

namespace civicpoints::bench {

// The running suite with the demo loaded; stop it with Stop(). Errors name the step that failed
// (the suite did not start, the demo did not load), with the suite already stopped.
absl::StatusOr<fault::SuiteControl> StartSuiteWithDemo(const std::string& name, int port_base);

}  // namespace civicpoints::bench

#endif  // CIVICPOINTS_TESTS_BENCH_DEMO_SUITE_H_
