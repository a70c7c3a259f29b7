#include "services/gateway/call_log.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

#include "common/log/log.h"
#include "common/status/grpc_status.h"
#include "services/gateway/json_transcoder.h"

namespace civicpoints::gateway {

struct CallLog::Families {
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Histogram>* latency = nullptr;
};

CallLog::CallLog() = default;
CallLog::~CallLog() = default;

void CallLog::AttachRegistry(prometheus::Registry& registry) {
  auto families = std::make_unique<Families>();
  families->requests = &prometheus::BuildCounter()
                            .Name("cp_gateway_requests_total")
                            .Help("Calls through the gateway, by face, route and status code.")
                            .Register(registry);
  families->latency = &prometheus::BuildHistogram()
                           .Name("cp_gateway_request_seconds")
                           .Help("Time from receiving a call to answering it, by face and route.")
                           .Register(registry);
  families_ = std::move(families);
  attached_.store(families_.get(), std::memory_order_release);
}

CallLog::RouteMetrics& CallLog::MetricsFor(Families& f, absl::string_view face,
                                           absl::string_view route) {
  const std::string key = absl::StrCat(face, " ", route);
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = routes_.find(key);
    if (it != routes_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<RouteMetrics>& m = routes_[key];
  if (m == nullptr) {
    static const prometheus::Histogram::BucketBoundaries kBuckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    m = std::make_unique<RouteMetrics>();
    m->latency =
        &f.latency->Add({{"face", std::string(face)}, {"route", std::string(route)}}, kBuckets);
  }
  return *m;
}

void CallLog::Record(const CallRecord& r) {
  const char* code = GrpcCodeName(r.code);
  if (Families* f = attached_.load(std::memory_order_acquire); f != nullptr) {
    RouteMetrics& m = MetricsFor(*f, r.face, r.route);
    const size_t c = std::min<size_t>(static_cast<size_t>(r.code), m.requests.size() - 1);
    prometheus::Counter* counter = m.requests[c].load(std::memory_order_acquire);
    if (counter == nullptr) {
      // Family::Add returns the same counter for the same labels, so a race is harmless.
      counter = &f->requests->Add(
          {{"face", std::string(r.face)}, {"route", std::string(r.route)}, {"code", code}});
      m.requests[c].store(counter, std::memory_order_release);
    }
    counter->Increment();
    m.latency->Observe(r.seconds);
  }
  if (!access_log_) return;
  log::ScopedRequestId scope{std::string(r.request_id)};
  log::Info("access", {{"face", r.face},
                       {"route", r.route},
                       {"principal", r.principal},
                       {"code", code},
                       {"http_status", r.http_status},
                       {"latency_ms", r.seconds * 1000.0},
                       {"client", r.client_address},
                       {"error", r.message}});
}

}  // namespace civicpoints::gateway
