#include "common/config/config_parser.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace civicpoints::config {
namespace {

std::string Describe(absl::string_view name) {
  return absl::StrCat("setting --", name, " (", EnvName(name), ")");
}

// Edits (insert, delete, substitute) between a and b.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

Environment ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::vector<std::string> ProcessVariableNames(absl::string_view prefix) {
  std::vector<std::string> names;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry = *e;
    absl::string_view name = entry.substr(0, entry.find('='));
    if (absl::StartsWith(name, prefix)) names.emplace_back(name);
  }
  return names;
}

Environment MapEnvironment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::string EnvName(absl::string_view setting) {
  return "CP_" + absl::AsciiStrToUpper(absl::StrReplaceAll(setting, {{"-", "_"}}));
}

ConfigParser::ConfigParser(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

void ConfigParser::Add(Setting setting) {
  setting.default_text = setting.current();
  settings_.push_back(std::move(setting));
}

void ConfigParser::AddString(std::string name, std::string help, std::string* out, bool required) {
  Add({std::move(name), std::move(help), "", required, false,
       [out](absl::string_view v) -> std::optional<std::string> {
         *out = std::string(v);
         return std::nullopt;
       },
       [out] { return *out; }});
}

void ConfigParser::AddSecret(std::string name, std::string help, std::string* out, bool required) {
  AddString(std::move(name), std::move(help), out, required);
  settings_.back().secret = true;
}

void ConfigParser::AddInt(std::string name, std::string help, int64_t* out, int64_t min,
                          int64_t max) {
  Add({std::move(name), std::move(help), "", false, false,
       [out, min, max](absl::string_view v) -> std::optional<std::string> {
         int64_t parsed = 0;
         if (!absl::SimpleAtoi(v, &parsed)) return absl::StrCat("'", v, "' is not an integer");
         if (parsed < min || parsed > max) {
           return absl::StrCat(parsed, " is outside ", min, "..", max);
         }
         *out = parsed;
         return std::nullopt;
       },
       [out] { return absl::StrCat(*out); }});
}

void ConfigParser::AddPort(std::string name, std::string help, int* out) {
  Add({std::move(name), std::move(help), "", false, false,
       [out](absl::string_view v) -> std::optional<std::string> {
         int parsed = 0;
         if (!absl::SimpleAtoi(v, &parsed)) return absl::StrCat("'", v, "' is not a port number");
         if (parsed < 0 || parsed > 65535) {
           return absl::StrCat(parsed, " is outside the port range 0..65535");
         }
         *out = parsed;
         return std::nullopt;
       },
       [out] { return absl::StrCat(*out); }});
}

void ConfigParser::AddDuration(std::string name, std::string help, absl::Duration* out,
                               absl::Duration min, absl::Duration max) {
  Add({std::move(name), std::move(help), "", false, false,
       [out, min, max](absl::string_view v) -> std::optional<std::string> {
         absl::Duration parsed;
         if (!absl::ParseDuration(v, &parsed)) {
           return absl::StrCat("'", v, "' is not a duration (use e.g. 500ms, 5s, 2m)");
         }
         if (parsed < min || parsed > max) {
           return absl::StrCat(absl::FormatDuration(parsed), " is outside ",
                               absl::FormatDuration(min), "..", absl::FormatDuration(max));
         }
         *out = parsed;
         return std::nullopt;
       },
       [out] { return absl::FormatDuration(*out); }});
}

void ConfigParser::AddBool(std::string name, std::string help, bool* out) {
  Add({std::move(name), std::move(help), "", false, false,
       [out](absl::string_view v) -> std::optional<std::string> {
         bool parsed = false;
         if (!absl::SimpleAtob(v, &parsed)) {
           return absl::StrCat("'", v, "' is not a boolean (use true or false)");
         }
         *out = parsed;
         return std::nullopt;
       },
       [out] { return *out ? std::string("true") : std::string("false"); }});
  settings_.back().is_bool = true;
}

absl::Status ConfigParser::Assign(Setting& setting, absl::string_view value,
                                  absl::string_view source) {
  if (std::optional<std::string> error = setting.assign(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(setting.name), " from ", source, ": ", *error));
  }
  return absl::OkStatus();
}

absl::Status ConfigParser::Parse(int argc, const char* const* argv, const Environment& env) {
  std::set<std::string> from_flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      return absl::OkStatus();
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "'; settings are given as --name=value"));
    }
    std::string name;
    std::optional<std::string> value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else {
      name = std::string(arg);
    }
    name = absl::StrReplaceAll(name, {{"-", "_"}});
    Setting* setting = nullptr;
    for (Setting& s : settings_) {
      if (s.name == name) setting = &s;
    }
    if (setting == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, "; run with --help to list the settings"));
    }
    if (!value.has_value() && setting->is_bool) {
      value = "true";  // a bare boolean flag turns it on
    }
    if (!value.has_value()) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat(Describe(name), ": flag has no value"));
      }
      value = argv[++i];
    }
    if (absl::Status s = Assign(*setting, *value, "flag"); !s.ok()) return s;
    from_flags.insert(name);
  }
  for (Setting& setting : settings_) {
    if (from_flags.count(setting.name) != 0) continue;
    const std::string var = EnvName(setting.name);
    if (std::optional<std::string> value = env(var); value.has_value()) {
      if (absl::Status s = Assign(setting, *value, "environment"); !s.ok()) return s;
    }
  }
  for (const Setting& setting : settings_) {
    if (setting.required && setting.current().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(setting.name), " is required: ", setting.help));
    }
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, std::string>> ConfigParser::UnknownVariables(
    const std::vector<std::string>& variable_names) const {
  std::vector<std::pair<std::string, std::string>> unknown;
  for (const std::string& var : variable_names) {
    if (!absl::StartsWith(var, "CP_")) continue;
    std::string nearest;
    size_t best = std::string::npos;
    bool known = false;
    for (const Setting& s : settings_) {
      const std::string env = EnvName(s.name);
      if (env == var) known = true;
      const size_t d = EditDistance(var, env);
      if (d < best) {
        best = d;
        nearest = env;
      }
    }
    if (known) continue;
    // Two edits or fewer, or a quarter of the name: a slip of the keyboard, not another setting.
    unknown.emplace_back(var, best <= std::max<size_t>(2, var.size() / 4) ? nearest : "");
  }
  return unknown;
}

std::string ConfigParser::Usage() const {
  std::string out = absl::StrCat(program_, ": ", description_,
                                 "\n\nSettings (flag, environment variable, default):\n");
  for (const Setting& s : settings_) {
    absl::StrAppend(&out, "  --", s.name, "  ", EnvName(s.name), "  [",
                    s.secret ? "(secret)" : s.default_text, "]", s.required ? " required" : "",
                    "\n      ", s.help, "\n");
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ConfigParser::Effective() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Setting& s : settings_) {
    out.emplace_back(s.name, s.secret && !s.current().empty() ? "****" : s.current());
  }
  return out;
}

}  // namespace civicpoints::config
