// cpctl: the command line for Civic Points staff and admins, over the gateway's gRPC.
// `cpctl --help` lists the commands and the exit codes; every command takes --help.
#include <cstdlib>
#include <iostream>

#include "CLI/CLI.hpp"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/exit_codes.h"

int main(int argc, char** argv) {
  using namespace civicpoints::cpctl;
  Context ctx;
  if (const char* addr = std::getenv("CPCTL_ADDR"); addr != nullptr && *addr != '\0') {
    ctx.client_options.addr = addr;
  }

  CLI::App app{
      "cpctl: manage Civic Points (org tree, places, posts, activities, services, points, "
      "exchanges, imports, statistics) through the gateway's gRPC API.",
      "cpctl"};
  app.footer(std::string("\nEnvironment: CPCTL_ADDR (gateway address), CPCTL_CONFIG (session "
                         "file), CPCTL_PASSWORD (login password).\n\n") +
             kExitCodeHelp);
  app.option_defaults()->always_capture_default();
  app.add_option("--addr", ctx.client_options.addr, "gateway gRPC address (env CPCTL_ADDR)");
  app.add_option("--config", ctx.client_options.session_path,
                 "session file (env CPCTL_CONFIG; default "
                 "$XDG_CONFIG_HOME/civicpoints/cpctl.json or ~/.config/civicpoints/cpctl.json)");
  app.add_option("--timeout", ctx.timeout_seconds, "seconds each call may take")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", ctx.json, "print responses as JSON instead of tables");
  app.require_subcommand(1);

  AddAuthCommands(app, ctx);
  AddOrgCommands(app, ctx);
  AddPeopleCommands(app, ctx);
  AddPlaceCommands(app, ctx);
  AddPostCommands(app, ctx);
  AddActivityCommands(app, ctx);
  AddRecordCommands(app, ctx);
  AddCaseCommands(app, ctx);
  AddPointsCommands(app, ctx);
  AddGiftCommands(app, ctx);
  AddExchangeCommands(app, ctx);
  AddImportCommands(app, ctx);
  AddStatsCommands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return ctx.RunAction();
}
