#include "CLI/CLI.hpp"
#include "tools/cpctl/commands.h"
namespace civicpoints::cpctl {
void AddPlaceCommands(CLI::App&, Context&) {}
}  // namespace civicpoints::cpctl
