// Settings from command-line flags and CP_* environment variables, checked at start.
//
// Each setting has one name: `grpc_port` is the flag `--grpc_port` (or `--grpc-port`) and the
// environment variable `CP_GRPC_PORT`. A flag wins over the environment, which wins over the
// default. Parse() refuses unknown flags, malformed values and missing required settings with an
// INVALID_ARGUMENT that names the setting, so a service fails fast with a message a person can act
// on.
//
//   ConfigParser parser("ledger", "Points ledger service");
//   int port = 50053;
//   parser.AddPort("grpc_port", "port for gRPC", &port);
//   if (absl::Status s = parser.Parse(argc, argv, ProcessEnvironment()); !s.ok()) { ... }
//
// Not thread-safe; use from main before threads start.
#ifndef CIVICPOINTS_COMMON_CONFIG_CONFIG_PARSER_H_
#define CIVICPOINTS_COMMON_CONFIG_CONFIG_PARSER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace civicpoints::config {

// Looks up an environment variable; returns nullopt when unset.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// The real process environment.
Environment ProcessEnvironment();

// The names of the process's environment variables that start with `prefix`.
std::vector<std::string> ProcessVariableNames(absl::string_view prefix);

// An environment made of the given map (for tests).
Environment MapEnvironment(std::map<std::string, std::string> values);

class ConfigParser {
 public:
  ConfigParser(std::string program, std::string description);

  // Each Add* registers a setting whose current value of *out is its default. `out` must outlive
  // Parse(). A `required` string setting must be given a non-empty value.
  void AddString(std::string name, std::string help, std::string* out, bool required = false);
  void AddSecret(std::string name, std::string help, std::string* out, bool required = false);
  void AddInt(std::string name, std::string help, int64_t* out, int64_t min, int64_t max);
  // A TCP port, 0..65535 (0 lets the OS choose, or disables an optional listener).
  void AddPort(std::string name, std::string help, int* out);
  // A duration in Abseil form: "250ms", "5s", "1m30s".
  void AddDuration(std::string name, std::string help, absl::Duration* out, absl::Duration min,
                   absl::Duration max);
  // A boolean; a bare `--name` means true.
  void AddBool(std::string name, std::string help, bool* out);

  // Reads argv then the environment into the registered settings. Returns INVALID_ARGUMENT naming
  // the flag and variable for an unknown flag, a malformed or out-of-range value, or a missing
  // required setting; nothing is half-applied reported as success. `--help` sets help_requested().
  absl::Status Parse(int argc, const char* const* argv, const Environment& env);

  bool help_requested() const { return help_requested_; }

  // A usage text listing every setting with its flag, variable, default and help.
  std::string Usage() const;

  // The effective settings as "name=value" pairs (secrets masked), for the start-up log line.
  std::vector<std::pair<std::string, std::string>> Effective() const;

  // Of the environment variable names given, those that look like settings (CP_...) but name none
  // of this program's, each with a hint: the nearest setting's variable when one is close (a
  // misspelling), e.g. {"CP_PG_POOLSIZE", "CP_PG_POOL_SIZE"}; the hint is empty otherwise.
  std::vector<std::pair<std::string, std::string>> UnknownVariables(
      const std::vector<std::string>& variable_names) const;

 private:
  struct Setting {
    std::string name;
    std::string help;
    std::string default_text;
    bool required = false;
    bool secret = false;
    // Parses text into the target; returns an error message without the setting's name.
    std::function<std::optional<std::string>(absl::string_view)> assign;
    std::function<std::string()> current;
    bool is_bool = false;
  };

  void Add(Setting setting);
  absl::Status Assign(Setting& setting, absl::string_view value, absl::string_view source);

  std::string program_;
  std::string description_;
  std::vector<Setting> settings_;
  bool help_requested_ = false;
};

// "grpc_port" -> "CP_GRPC_PORT".
std::string EnvName(absl::string_view setting);

}  // namespace civicpoints::config

#endif  // CIVICPOINTS_COMMON_CONFIG_CONFIG_PARSER_H_
