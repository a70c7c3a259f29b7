// Structured JSON logs, one object per line on stderr:
//
//   {"ts":"2026-11-08T09:30:00.123Z","level":"info","service":"ledger","request_id":"r-1f3a",
//    "msg":"award applied","person_id":"p_42","points":5}
//
// The request id comes from the ScopedRequestId active on the calling thread (the server sets one
// per call), so handlers need not pass it around. Thread-safe. Built on spdlog, which owns the
// sink.
//
//   log::Info("migration applied", {{"schema", "ledger"}, {"version", 3}});
#ifndef CIVICPOINTS_COMMON_LOG_LOG_H_
#define CIVICPOINTS_COMMON_LOG_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <variant>

#include "absl/strings/string_view.h"

namespace civicpoints::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// One key and value of a log line.
struct Field {
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Field(absl::string_view k, T v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(absl::string_view k, bool v) : key(k), value(v) {}
  Field(absl::string_view k, double v) : key(k), value(v) {}
  Field(absl::string_view k, absl::string_view v) : key(k), value(std::string(v)) {}
  Field(absl::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(absl::string_view k, const std::string& v) : key(k), value(v) {}

  std::string key;
  std::variant<std::string, int64_t, double, bool> value;
};

using Fields = std::initializer_list<Field>;

// Names the service in every line and sets the lowest level written. Call once from main; before
// it, lines go out with service "unknown" at level info.
void Init(absl::string_view service, Level min_level);

// Parses "debug", "info", "warn", "error"; returns false for anything else.
bool ParseLevel(absl::string_view text, Level* level);

void Write(Level level, absl::string_view msg, Fields fields);
inline void Debug(absl::string_view msg, Fields fields = {}) { Write(Level::kDebug, msg, fields); }
inline void Info(absl::string_view msg, Fields fields = {}) { Write(Level::kInfo, msg, fields); }
inline void Warn(absl::string_view msg, Fields fields = {}) { Write(Level::kWarn, msg, fields); }
inline void Error(absl::string_view msg, Fields fields = {}) { Write(Level::kError, msg, fields); }

// Formats one line without writing it (exposed for tests).
std::string FormatLine(Level level, absl::string_view msg, Fields fields);

// Sets the calling thread's request id for its lifetime, restoring the previous one after.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string request_id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

// The calling thread's request id, or "" outside a call.
const std::string& CurrentRequestId();

// A fresh random request id (16 hex digits).
std::string NewRequestId();

}  // namespace civicpoints::log

#endif  // CIVICPOINTS_COMMON_LOG_LOG_H_
