#include "CLI/CLI.hpp"
#include "tools/cpctl/commands.h"
namespace civicpoints::cpctl {
void AddOrgCommands(CLI::App&, Context&) {}
}  // namespace civicpoints::cpctl
