#include "CLI/CLI.hpp"
#include "tools/cpctl/commands.h"
namespace civicpoints::cpctl {
void AddPointsCommands(CLI::App&, Context&) {}
}  // namespace civicpoints::cpctl
