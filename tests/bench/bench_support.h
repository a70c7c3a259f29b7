// What the benchmark programs share: timed concurrent runs with latency percentiles, throwaway
// databases on the bench PostgreSQL, a free port, a service process started with settings in its
// environment, and the machine's description for the figures.
#ifndef CIVICPOINTS_TESTS_BENCH_BENCH_SUPPORT_H_
#define CIVICPOINTS_TESTS_BENCH_BENCH_SUPPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace civicpoints::config {
class ConfigParser;
}

namespace civicpoints::bench {

// Parses a benchmark's flags and environment. Returns -1 to go on, or the exit code after printing
// the usage (0, --help) or the error (2).
int ParseSettings(config::ConfigParser& parser, int argc, char** argv);

struct Run {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t calls = 0;
  int64_t errors = 0;
  // CPU the benchmark process itself spent per call (user + system, all its threads): what the
  // load generator took from the cores it shares with the servers it measures.
  double client_cpu_us_per_call = 0;
  // The same for each watched server process (MeasureInTurns' `watched`, in its order).
  std::vector<double> watched_cpu_us_per_call;
};

double Percentile(std::vector<double>& v, double p);

// Runs `call` from `callers` threads for `seconds`; each call returns whether it succeeded.
Run Measure(int callers, int64_t seconds, const std::function<bool(int caller, int64_t i)>& call);
// Runs each contender in turn, `rounds` times over, each turn `turn` long, and sums each one's
// turns: a shared machine's slow moments then fall on every contender alike, so their ratios hold
// better than those of back-to-back runs.
// `watched`: server processes whose CPU per call to report.
std::vector<Run> MeasureInTurns(
    int callers, int rounds, double turn_seconds,
    const std::vector<std::function<bool(int caller, int64_t i)>>& contenders,
    const std::vector<pid_t>& watched = {});
// Runs `call` exactly `total` times from `callers` threads (i is 0..total-1, each once), for work
// that can be done only once per item; per_second is successes over the time all of them took.
Run MeasureCount(int callers, int64_t total,
                 const std::function<bool(int caller, int64_t i)>& call);

// `url` with its database name replaced by `db`.
std::string WithDatabase(const std::string& url, const std::string& db);
// Drops (forcing connections off) and creates database `db` through `admin_url`.
void RecreateDatabase(const std::string& admin_url, const std::string& db);

// A port nothing listens on now.
int FreePort();

// Starts `binary` with `env` added to its environment; returns its pid.
pid_t StartProcess(const std::string& binary, const std::map<std::string, std::string>& env);
// SIGTERM and wait.
void StopProcess(pid_t pid);

// "2 cores, <CPU model>".
std::string MachineLine();

// Anchor: pgbench's TPC-B-like tps at `clients` clients for 10 s, on a fresh scale-32 database
// cp_bench_pgbench made through `admin_url`; 0 when pgbench fails.
double PgbenchTps(const std::string& admin_url, int clients);

// Anchor: a bare gRPC echo service (no interceptors, no auth) in this process, on gRPC's
// synchronous API or its callback API, called over 4 channels by `callers` threads for `seconds`.
Run EchoAnchor(int callers, int64_t seconds, bool callback_api = false);

// CPU seconds (user + system) spent so far by this process, by process `pid`, and by every
// process whose command is `name` (e.g. "postgres", "redis-server"), read from /proc; 0 for what
// cannot be read.
double SelfCpuSeconds();
double CpuSecondsOf(pid_t pid);
double CpuSecondsOfCommand(const std::string& name);

}  // namespace civicpoints::bench

#endif  // CIVICPOINTS_TESTS_BENCH_BENCH_SUPPORT_H_
