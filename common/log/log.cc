#include "common/log/log.h"

#include <sodium.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace civicpoints::log {
namespace {

thread_local std::string t_request_id;

struct State {
  std::mutex mu;
  std::string service = "unknown";
  std::shared_ptr<spdlog::logger> logger;
  std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
};

State& GetState() {
  static State* state = [] {
    auto* s = new State;
    s->logger = spdlog::stderr_logger_mt("civicpoints");
    s->logger->set_pattern("%v");
    s->logger->set_level(spdlog::level::trace);
    s->logger->flush_on(spdlog::level::trace);
    return s;
  }();
  return *state;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void Init(absl::string_view service, Level min_level) {
  State& state = GetState();
  std::lock_guard<std::mutex> lock(state.mu);
  state.service = std::string(service);
  state.min_level = static_cast<int>(min_level);
}

bool ParseLevel(absl::string_view text, Level* level) {
  if (text == "debug")
    *level = Level::kDebug;
  else if (text == "info")
    *level = Level::kInfo;
  else if (text == "warn")
    *level = Level::kWarn;
  else if (text == "error")
    *level = Level::kError;
  else
    return false;
  return true;
}

std::string FormatLine(Level level, absl::string_view msg, Fields fields) {
  State& state = GetState();
  nlohmann::ordered_json line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = LevelName(level);
  {
    std::lock_guard<std::mutex> lock(state.mu);
    line["service"] = state.service;
  }
  if (!t_request_id.empty()) line["request_id"] = t_request_id;
  line["msg"] = std::string(msg);
  for (const Field& f : fields) {
    std::visit([&](const auto& v) { line[f.key] = v; }, f.value);
  }
  // Replace rather than throw on invalid UTF-8: a log line must never take a call down.
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void Write(Level level, absl::string_view msg, Fields fields) {
  State& state = GetState();
  if (static_cast<int>(level) < state.min_level.load()) return;
  state.logger->info(FormatLine(level, msg, fields));
}

ScopedRequestId::ScopedRequestId(std::string request_id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(request_id);
}

ScopedRequestId::~ScopedRequestId() { t_request_id = std::move(previous_); }

const std::string& CurrentRequestId() { return t_request_id; }

std::string NewRequestId() {
  static const bool sodium_ready = sodium_init() >= 0;
  (void)sodium_ready;
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

}  // namespace civicpoints::log
