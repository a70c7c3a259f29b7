#include "tests/bench/demo_suite.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace civicpoints::bench {

absl::StatusOr<fault::SuiteControl> StartSuiteWithDemo(const std::string& name, int port_base) {
  const std::string run_dir = absl::StrCat(CP_BUILD_DIR, "/bench-run/", name, "-suite");
  absl::StatusOr<fault::SuiteControl> suite =
      fault::SuiteControl::StartForLoad(run_dir, port_base, CP_BUILD_DIR);
  if (!suite.ok()) return suite.status();
  const std::string demo =
      absl::StrCat(CP_BUILD_DIR, "/tools/demo/cp_demo --gateway=", suite->gateway_addr(),
                   " --admin_password=", suite->admin_password(),
                   " --admin_demo_password=", suite->admin_password(), " >/dev/null");
  if (std::system(demo.c_str()) != 0) {
    suite->Stop();
    return absl::InternalError("the demo did not load");
  }
  return suite;
}

}  // namespace civicpoints::bench
