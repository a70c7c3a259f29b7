#include "common/server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"

namespace civicpoints::server {

struct Metrics::Families {
  prometheus::Family<prometheus::Counter>* handled;
  prometheus::Family<prometheus::Histogram>* latency;
};

Metrics::~Metrics() = default;

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Create(absl::string_view service,
                                                         const std::string& host, int port) {
  std::unique_ptr<Metrics> m(new Metrics);
  m->registry_ = std::make_shared<prometheus::Registry>();
  const std::map<std::string, std::string> constant = {{"service", std::string(service)}};
  m->families_ = std::make_unique<Families>();
  m->families_->handled = &prometheus::BuildCounter()
                               .Name("cp_grpc_server_handled_total")
                               .Help("RPCs completed on the server, by method and status code.")
                               .Labels(constant)
                               .Register(*m->registry_);
  m->families_->latency = &prometheus::BuildHistogram()
                               .Name("cp_grpc_server_handling_seconds")
                               .Help("Time from receiving an RPC to sending its status.")
                               .Labels(constant)
                               .Register(*m->registry_);
  if (port > 0) {
    try {
      // One worker thread is plenty for a scrape every few seconds.
      m->exposer_ = std::make_unique<prometheus::Exposer>(absl::StrCat(host, ":", port), 1);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot serve metrics on ", host, ":", port, ": ", e.what()));
    }
    m->exposer_->RegisterCollectable(m->registry_);
    m->port_ = port;
  }
  return m;
}

void Metrics::RecordRpc(const std::string& method, const std::string& code, double seconds) {
  families_->handled->Add({{"grpc_method", method}, {"grpc_code", code}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  families_->latency->Add({{"grpc_method", method}}, kBuckets).Observe(seconds);
}

prometheus::Registry& Metrics::registry() { return *registry_; }

}  // namespace civicpoints::server
