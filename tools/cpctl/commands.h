// The command groups of cpctl, each in its own file, each adding its subcommands to the app.
// Every command documents its flags in --help and leaves its work as the context's action.
#ifndef CIVICPOINTS_TOOLS_CPCTL_COMMANDS_H_
#define CIVICPOINTS_TOOLS_CPCTL_COMMANDS_H_

namespace CLI {
class App;
}

namespace civicpoints::cpctl {

class Context;

void AddAuthCommands(CLI::App& app, Context& ctx);  // login, logout, whoami, password
// org create|show|rename|set-division-code|children
void AddOrgCommands(CLI::App& app, Context& ctx);
void AddPeopleCommands(CLI::App& app, Context& ctx);  // person create|find, role grant|list|revoke
void AddPlaceCommands(CLI::App& app, Context& ctx);   // place create|list|get|close|reopen|retire
void AddPostCommands(CLI::App& app, Context& ctx);    // post create|list|claims|approve|reject
void AddActivityCommands(CLI::App& app, Context& ctx);  // activity ...
void AddRecordCommands(CLI::App& app, Context& ctx);    // record pending|verify|reject
void AddCaseCommands(CLI::App& app, Context& ctx);      // case list|show|assign|progress|close
void AddPointsCommands(CLI::App& app, Context& ctx);    // balance, ranking top|rank
void AddGiftCommands(CLI::App& app, Context& ctx);      // gift create|list, stock add
void AddExchangeCommands(CLI::App& app, Context& ctx);  // exchange ..., pickup fulfil|list
void AddImportCommands(CLI::App& app, Context& ctx);    // import riders|places
void AddStatsCommands(CLI::App& app, Context& ctx);     // stats export

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_COMMANDS_H_
