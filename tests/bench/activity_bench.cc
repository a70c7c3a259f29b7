// activity_bench: measures the activity service's nearest-place search and check-ins over gRPC,
// with its anchors measured in the same run.
//
//   activity_bench --pg_url=URL --activity_bin=PATH [--seconds=5] [--places=100000]
//                  [--checkins=5000]
//
// Prints a line per figure and, last, one JSON object with all of them. It starts its own activity
// process against a fresh database, so run it against a throwaway PostgreSQL (scripts/bench.sh
// does). Identity and the ledger are never called: the org tree is seeded into the service's
// org-path cache, tokens are signed with a key made for this run, and no award is confirmed.
//
// Nearest places: `places` stations and love corners spread over 45 × 45 km around Datong, 85%
// always open, 15% open 08:00–20:00 (a third of those temporarily closed); SearchNearbyPlaces at
// uniformly random points, radius 2 km, page size 10, every fourth call filtered to one service.
// Check-ins: `checkins` riders enrolled by SQL each check in once with CheckInToActivity (the
// rotating code, refreshed every second by a staff device thread, and the place's location), all
// into one activity (the rush at an activity's start), then into 16 activities at once.
// Anchors: a bare gRPC echo service at the same caller counts, and pgbench's TPC-B-like tps at 16
// clients on the same PostgreSQL server.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "common/auth/jwt.h"
#include "common/config/config_parser.h"
#include "common/probe/probe.h"
#include "tests/bench/bench_support.h"

namespace cp = ::civicpoints;
namespace v1 = ::civicpoints::activity::v1;

namespace {

using namespace ::civicpoints::bench;

struct Settings {
  std::string pg_url;
  std::string activity_bin;
  int64_t seconds = 5;
  int64_t places = 100000;
  int64_t checkins = 5000;
};

constexpr double kCenterLat = 40.09, kCenterLon = 113.30;
// 45 km north–south and east–west.
constexpr double kSpanLat = 45000 / 111195.08;
const double kSpanLon = kSpanLat / std::cos(kCenterLat * M_PI / 180);
constexpr int kStreets = 3, kCommunitiesPerStreet = 5;
constexpr int kSpreadActivities = 16;

// Failed calls by status, for printing.
class Errors {
 public:
  void Add(const grpc::Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[absl::StrCat(s.error_code(), " ", s.error_message())];
  }
  void Print(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [message, n] : counts_) {
      std::cout << "  " << what << " error x" << n << ": " << message << "\n";
    }
  }

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> counts_;
};

// The staff device: fetches each activity's current check-in code every second.
class CodeBoard {
 public:
  CodeBoard(v1::ActivityService::Stub* stub, std::string bearer, std::vector<std::string> ids)
      : stub_(stub), bearer_(std::move(bearer)), ids_(std::move(ids)), codes_(ids_.size()) {}
  ~CodeBoard() { Stop(); }

  bool Start() {
    if (!RefreshAll()) return false;
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(stop_mu_);
      while (!stop_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
        lock.unlock();
        RefreshAll();
        lock.lock();
      }
    });
    return true;
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  std::string Code(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return codes_[i];
  }
  int64_t failures() const { return failures_; }

 private:
  bool RefreshAll() {
    bool all = true;
    for (size_t i = 0; i < ids_.size(); ++i) {
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", bearer_);
      v1::GetCheckInCodeRequest req;
      req.set_activity_id(ids_[i]);
      v1::GetCheckInCodeResponse resp;
      const grpc::Status s = stub_->GetCheckInCode(&ctx, req, &resp);
      if (!s.ok()) {
        std::cerr << "GetCheckInCode " << ids_[i] << ": " << s.error_message() << "\n";
        ++failures_;
        all = false;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      codes_[i] = resp.code();
    }
    return all;
  }

  v1::ActivityService::Stub* stub_;
  const std::string bearer_;
  const std::vector<std::string> ids_;
  std::mutex mu_;
  std::vector<std::string> codes_;
  std::atomic<int64_t> failures_{0};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

std::string Community(int k) { return absl::StrCat("c_bench_", k); }

// The org tree in the service's org-path cache, and the places.
void Seed(const std::string& url, int64_t places) {
  pqxx::connection c(url);
  pqxx::work tx(c);
  tx.exec("SET search_path TO activity");
  tx.exec("INSERT INTO org_paths (org_id, level, district_id) VALUES ('d_bench', 2, 'd_bench')");
  for (int s = 0; s < kStreets; ++s) {
    const std::string street = absl::StrCat("s_bench_", s);
    tx.exec_params(
        "INSERT INTO org_paths (org_id, level, district_id, street_id) "
        "VALUES ($1, 3, 'd_bench', $1)",
        street);
    for (int k = s * kCommunitiesPerStreet; k < (s + 1) * kCommunitiesPerStreet; ++k) {
      tx.exec_params(
          "INSERT INTO org_paths (org_id, level, district_id, street_id, community_id) "
          "VALUES ($1, 4, 'd_bench', $2, $1)",
          Community(k), street);
    }
  }
  v1::OpeningHours always;
  always.set_always_open(true);
  v1::OpeningHours daytime;
  for (int d = v1::WEEKDAY_MONDAY; d <= v1::WEEKDAY_SUNDAY; ++d) {
    v1::OpeningPeriod* p = daytime.add_periods();
    p->set_day(static_cast<v1::Weekday>(d));
    p->set_open_time("08:00");
    p->set_close_time("20:00");
  }
  tx.exec("SELECT setseed(0.42)");
  // n even: a rider station (rest, one more service, and party-building, study or work); n odd:
  // a love corner (rest and one more service).
  tx.exec_params(
      absl::StrCat(
          "INSERT INTO places (place_id, kind, name, address, latitude, longitude, community_id, "
          "street_id, district_id, services, opening_hours, temporarily_closed, created_by) "
          "SELECT 'pl_bench_' || lpad(n::text, 6, '0'), 1 + n % 2, "
          "CASE WHEN n % 2 = 0 THEN '小哥驿站 ' ELSE '爱心角 ' END || n, "
          "'平城区测试路' || n || '号', ",
          kCenterLat, " + (random() - 0.5) * ", kSpanLat, ", ", kCenterLon,
          " + (random() - 0.5) * ", kSpanLon,
          ", 'c_bench_' || (n % $3), 's_bench_' || (n % $3 / $4), 'd_bench', "
          "(ARRAY[4, (6 + n % 9)::int] || CASE WHEN n % 2 = 0 THEN "
          "ARRAY[(1 + (n / 2) % 3)::int] ELSE '{}'::int[] END)::smallint[], "
          "CASE WHEN n % 20 < 17 THEN $1::bytea ELSE $2::bytea END, n % 20 = 19, 'bench' "
          "FROM generate_series(0, $5::bigint - 1) AS n"),
      pqxx::binarystring(always.SerializeAsString()),
      pqxx::binarystring(daytime.SerializeAsString()), kStreets * kCommunitiesPerStreet,
      kCommunitiesPerStreet, places);
  tx.commit();
  pqxx::nontransaction nt(c);
  nt.exec("ANALYZE activity.places");
}

std::string Bearer(const cp::auth::TokenSigner& signer, const std::string& subject,
                   cp::auth::Role role, const std::string& org) {
  cp::auth::Principal p;
  p.subject = subject;
  p.roles = {{role, org}};
  p.issued_at = absl::Now();
  p.expires_at = p.issued_at + absl::Hours(1);
  return "Bearer " + signer.Sign(p);
}

struct Venue {
  std::string activity_id;
  double lat = 0, lon = 0;
};

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Settings s;
  cp::config::ConfigParser parser("activity_bench",
                                  "activity benchmark with pgbench and echo anchors");
  parser.AddString("pg_url", "PostgreSQL server URL (an admin database)", &s.pg_url, true);
  parser.AddString("activity_bin", "path of civicpoints-activity", &s.activity_bin, true);
  parser.AddInt("seconds", "seconds per timed run", &s.seconds, 1, 600);
  parser.AddInt("places", "places seeded", &s.places, 1000, 10000000);
  parser.AddInt("checkins", "riders checking in, in each check-in run", &s.checkins, 16, 5000);
  if (const int exit_code = ParseSettings(parser, argc, argv); exit_code >= 0) return exit_code;

  std::cout << std::unitbuf;  // each figure as it is measured, in order with the service's log
  std::cout << "machine: " << MachineLine() << "\n";
  constexpr int kPgbenchClients = 16;
  const double pgbench_tps = PgbenchTps(s.pg_url, kPgbenchClients);
  std::cout << absl::StrFormat("anchor pgbench tpcb-like, %d clients: %.0f tps\n", kPgbenchClients,
                               pgbench_tps);
  std::map<int, Run> echo;
  for (int callers : {1, 16}) {
    echo[callers] = EchoAnchor(callers, s.seconds);
    std::cout << absl::StrFormat(
        "anchor bare gRPC echo, %2d callers: %7.0f/s  p50 %6.2f ms  p99 %6.2f ms\n", callers,
        echo[callers].per_second, echo[callers].p50_ms, echo[callers].p99_ms);
  }

  // An activity service of our own on a fresh database, trusting a key made for this run;
  // identity and the ledger are addresses nothing listens on.
  RecreateDatabase(s.pg_url, "cp_bench_activity");
  const std::string activity_url = WithDatabase(s.pg_url, "cp_bench_activity");
  cp::auth::Ed25519PublicKey pk;
  cp::auth::Ed25519SecretKey sk;
  cp::auth::TokenSigner::GenerateKeyPair(&pk, &sk);
  cp::auth::KeySet keys;
  keys.Add("bench", pk);
  const std::string jwks_path = "/tmp/cp-activity-bench-jwks.json";
  std::ofstream(jwks_path, std::ios::trunc) << keys.ToJwks();
  const std::string api_key_path = "/tmp/cp-activity-bench-api-key";
  std::ofstream(api_key_path, std::ios::trunc) << "cpk_ak_bench_" << std::string(43, 'A') << "\n";
  const cp::auth::TokenSigner signer("bench", sk);
  const int port = FreePort();
  const pid_t activity =
      StartProcess(s.activity_bin, {{"CP_PG_URL", activity_url},
                                    {"CP_GRPC_PORT", std::to_string(port)},
                                    {"CP_METRICS_PORT", std::to_string(FreePort())},
                                    {"CP_JWKS_FILE", jwks_path},
                                    {"CP_IDENTITY_ADDR", absl::StrCat("127.0.0.1:", FreePort())},
                                    {"CP_SERVICE_API_KEY_FILE", api_key_path},
                                    {"CP_LEDGER_ADDR", absl::StrCat("127.0.0.1:", FreePort())},
                                    {"CP_PG_POOL_SIZE", "16"},
                                    {"CP_LOG_LEVEL", "warn"}});
  const std::string address = absl::StrCat("127.0.0.1:", port);
  if (!cp::probe::WaitUntilServing(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()),
                                   absl::Seconds(60))) {
    std::cerr << "activity did not start\n";
    kill(activity, SIGKILL);
    return 1;
  }

  const absl::Time seed_start = absl::Now();
  Seed(activity_url, s.places);
  const double seed_seconds = absl::ToDoubleSeconds(absl::Now() - seed_start);
  std::cout << absl::StrFormat("seeded %d places in %.1f s\n", s.places, seed_seconds);

  std::vector<std::unique_ptr<v1::ActivityService::Stub>> stubs;
  for (int i = 0; i < 4; ++i) {
    stubs.push_back(v1::ActivityService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials())));
  }
  const std::string searcher =
      Bearer(signer, "rider_bench_searcher", cp::common::v1::ROLE_RIDER, Community(0));

  // The service reads places into its index from the table's change numbers (about once a
  // second): the searches start once it holds the last place seeded, and so all of them.
  {
    pqxx::connection c(activity_url);
    pqxx::read_transaction tx(c);
    const pqxx::row last = tx.exec1(
        "SELECT place_id, latitude, longitude FROM activity.places ORDER BY change_no DESC "
        "LIMIT 1");
    const std::string last_id = last[0].as<std::string>();
    const absl::Time give_up = absl::Now() + absl::Seconds(120);
    for (bool found = false; !found;) {
      v1::SearchNearbyPlacesRequest req;
      req.mutable_location()->set_latitude(last[1].as<double>());
      req.mutable_location()->set_longitude(last[2].as<double>());
      req.set_radius_meters(1);
      req.set_include_closed(true);
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", searcher);
      v1::SearchNearbyPlacesResponse resp;
      if (stubs[0]->SearchNearbyPlaces(&ctx, req, &resp).ok()) {
        for (const v1::NearbyPlace& p : resp.places()) found |= p.place().place_id() == last_id;
      }
      if (!found && absl::Now() > give_up) {
        std::cerr << "the service's place index did not catch up with the seeded places\n";
        StopProcess(activity);
        return 1;
      }
      if (!found) absl::SleepFor(absl::Milliseconds(100));
    }
    std::cout << absl::StrFormat("the place index held every place %.1f s after seeding began\n",
                                 absl::ToDoubleSeconds(absl::Now() - seed_start));
  }

  // Nearest places.
  std::map<int, Run> nearest;
  int64_t nearest_errors = 0;
  double results_per_call = 0;
  Errors search_errors;
  for (int callers : {1, 16}) {
    std::vector<std::mt19937_64> rngs;
    for (int c = 0; c < callers; ++c) rngs.emplace_back(1000 + c);
    std::atomic<int64_t> results{0};
    nearest[callers] = Measure(callers, s.seconds, [&](int c, int64_t i) {
      std::uniform_real_distribution<double> unit(-0.5, 0.5);
      v1::SearchNearbyPlacesRequest req;
      req.mutable_location()->set_latitude(kCenterLat + unit(rngs[c]) * kSpanLat);
      req.mutable_location()->set_longitude(kCenterLon + unit(rngs[c]) * kSpanLon);
      req.set_radius_meters(2000);
      req.set_page_size(10);
      if (i % 4 == 3) {
        req.add_services(static_cast<v1::PlaceServiceType>(6 + rngs[c]() % 9));
      }
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", searcher);
      v1::SearchNearbyPlacesResponse resp;
      const grpc::Status st = stubs[c % stubs.size()]->SearchNearbyPlaces(&ctx, req, &resp);
      if (!st.ok()) {
        search_errors.Add(st);
        return false;
      }
      results += resp.places_size();
      return true;
    });
    const Run& r = nearest[callers];
    nearest_errors += r.errors;
    if (callers == 16 && r.calls > r.errors) {
      results_per_call = static_cast<double>(results) / static_cast<double>(r.calls - r.errors);
    }
    std::cout << absl::StrFormat(
        "nearest places (%d places, 2 km, 10 a page), %2d callers: %7.0f/s  p50 %6.2f ms  "
        "p99 %6.2f ms  (%d calls, %d errors)\n",
        s.places, callers, r.per_second, r.p50_ms, r.p99_ms, r.calls, r.errors);
  }
  std::cout << absl::StrFormat("  places returned per search at 16 callers: %.1f\n",
                               results_per_call);
  search_errors.Print("search");

  // Check-ins: one activity, then 16 at once; the same riders are enrolled in both.
  const std::string staff =
      Bearer(signer, "staff_bench", cp::common::v1::ROLE_COMMUNITY_STAFF, Community(0));
  std::vector<Venue> venues;
  for (int i = 0; i < 1 + kSpreadActivities; ++i) {
    Venue v;
    const std::string place_id = absl::StrFormat("pl_bench_%06d", i * 15);
    {
      pqxx::connection c(activity_url);
      pqxx::work tx(c);
      pqxx::result r = tx.exec_params(
          "SELECT latitude, longitude FROM activity.places WHERE place_id = $1", place_id);
      v.lat = r.at(0)[0].as<double>();
      v.lon = r.at(0)[1].as<double>();
    }
    v1::CreateActivityRequest req;
    v1::Activity* a = req.mutable_activity();
    a->set_title(absl::StrCat("骑手安全培训 ", i));
    a->set_category(v1::ACTIVITY_CATEGORY_SAFETY);
    a->set_place_id(place_id);
    a->set_organiser_org_id(Community(0));
    const absl::Time start = absl::Now() + absl::Minutes(11);
    a->mutable_start_time()->set_seconds(absl::ToUnixSeconds(start));
    a->mutable_end_time()->set_seconds(absl::ToUnixSeconds(start + absl::Hours(2)));
    a->set_capacity(5000);
    a->set_points(10);
    req.set_idempotency_key(absl::StrCat("bench-activity-", i));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", staff);
    v1::CreateActivityResponse resp;
    if (grpc::Status st = stubs[0]->CreateActivity(&ctx, req, &resp); !st.ok()) {
      std::cerr << "CreateActivity: " << st.error_message() << "\n";
      StopProcess(activity);
      return 1;
    }
    v.activity_id = resp.activity().activity_id();
    venues.push_back(v);
  }
  std::vector<std::string> riders, rider_bearers;
  for (int64_t k = 0; k < s.checkins; ++k) {
    riders.push_back(absl::StrFormat("rider_bench_%05d", k));
    rider_bearers.push_back(
        Bearer(signer, riders.back(), cp::common::v1::ROLE_RIDER, Community(k % 15)));
  }
  {
    pqxx::connection c(activity_url);
    pqxx::work tx(c);
    tx.exec("SET search_path TO activity");
    for (int i = 0; i < 1 + kSpreadActivities; ++i) {
      // Activity 0 has every rider; activity 1 + j the riders k with k % 16 == j.
      const int64_t step = i == 0 ? 1 : kSpreadActivities, first = i == 0 ? 0 : i - 1;
      tx.exec_params(
          "INSERT INTO enrolments (activity_id, rider_id, status) "
          "SELECT $1, 'rider_bench_' || lpad(k::text, 5, '0'), 1 "
          "FROM generate_series($2::bigint, $3::bigint - 1, $4::bigint) AS k",
          venues[i].activity_id, first, s.checkins, step);
      tx.exec_params(
          "UPDATE activities SET enrolled_count = (SELECT count(*) FROM enrolments "
          "WHERE activity_id = $1) WHERE activity_id = $1",
          venues[i].activity_id);
    }
    tx.commit();
  }
  std::vector<std::string> ids;
  for (const Venue& v : venues) ids.push_back(v.activity_id);
  CodeBoard board(stubs[0].get(), staff, ids);
  if (!board.Start()) {
    StopProcess(activity);
    return 1;
  }
  Errors checkin_errors;
  // Rider k checks in to activity `pick(k)`.
  const auto check_ins = [&](const std::function<size_t(int64_t)>& pick) {
    return MeasureCount(16, s.checkins, [&](int c, int64_t k) {
      const size_t i = pick(k);
      v1::CheckInToActivityRequest req;
      req.set_activity_id(venues[i].activity_id);
      req.set_code(board.Code(i));
      req.mutable_location()->set_latitude(venues[i].lat);
      req.mutable_location()->set_longitude(venues[i].lon);
      req.set_location_accuracy_meters(10);
      req.set_idempotency_key(absl::StrCat("bench-checkin-", i, "-", k));
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", rider_bearers[k]);
      v1::CheckInToActivityResponse resp;
      const grpc::Status st = stubs[c % stubs.size()]->CheckInToActivity(&ctx, req, &resp);
      if (!st.ok()) {
        checkin_errors.Add(st);
        return false;
      }
      return resp.enrolment().status() == v1::ENROLMENT_STATUS_CHECKED_IN;
    });
  };
  const Run one = check_ins([](int64_t) { return size_t{0}; });
  std::cout << absl::StrFormat(
      "check-ins, one activity, 16 callers: %7.0f/s  p50 %6.2f ms  p99 %6.2f ms  "
      "(%d riders, %d errors)\n",
      one.per_second, one.p50_ms, one.p99_ms, one.calls, one.errors);
  const Run spread =
      check_ins([](int64_t k) { return static_cast<size_t>(1 + k % kSpreadActivities); });
  std::cout << absl::StrFormat(
      "check-ins, %d activities, 16 callers: %7.0f/s  p50 %6.2f ms  p99 %6.2f ms  "
      "(%d riders, %d errors)\n",
      kSpreadActivities, spread.per_second, spread.p50_ms, spread.p99_ms, spread.calls,
      spread.errors);
  board.Stop();
  checkin_errors.Print("check-in");
  int64_t checked_in = 0;
  {
    pqxx::connection c(activity_url);
    pqxx::work tx(c);
    checked_in =
        tx.exec1("SELECT count(*) FROM activity.enrolments WHERE status = 3")[0].as<int64_t>();
  }
  std::cout << absl::StrFormat("  enrolments checked in: %d of %d\n", checked_in, 2 * s.checkins);

  StopProcess(activity);

  const int64_t checkin_errors_total = one.errors + spread.errors + board.failures();
  const bool ok = nearest_errors == 0 && checkin_errors_total == 0 && checked_in == 2 * s.checkins;
  std::cout << absl::StrFormat(
      "{\"bench\":\"activity\",\"machine\":\"%s\",\"seconds_per_run\":%d,\"places\":%d,"
      "\"nearest_per_s\":{\"1\":%.0f,\"16\":%.0f},\"nearest_p50_ms\":{\"1\":%.2f,\"16\":%.2f},"
      "\"nearest_p99_ms\":{\"1\":%.2f,\"16\":%.2f},\"nearest_places_per_call\":%.1f,"
      "\"nearest_errors\":%d,\"checkin_riders\":%d,\"checkins_per_s\":%.0f,"
      "\"checkin_p50_ms\":%.2f,\"checkin_p99_ms\":%.2f,\"checkins_16_activities_per_s\":%.0f,"
      "\"checkin_16_activities_p50_ms\":%.2f,\"checkin_16_activities_p99_ms\":%.2f,"
      "\"checkin_errors\":%d,\"echo_per_s\":{\"1\":%.0f,\"16\":%.0f},\"pgbench_clients\":%d,"
      "\"pgbench_tps\":%.0f,\"nearest_vs_echo_16\":%.3f,\"checkins_vs_pgbench\":%.2f,"
      "\"target_nearest_vs_echo_16\":0.3,\"target_nearest_p99_ms_16\":5,"
      "\"target_nearest_p50_ms_1\":0.3,\"target_checkins_vs_pgbench\":0.5,"
      "\"ok\":%s}\n",
      MachineLine(), s.seconds, s.places, nearest[1].per_second, nearest[16].per_second,
      nearest[1].p50_ms, nearest[16].p50_ms, nearest[1].p99_ms, nearest[16].p99_ms,
      results_per_call, nearest_errors, s.checkins, one.per_second, one.p50_ms, one.p99_ms,
      spread.per_second, spread.p50_ms, spread.p99_ms, checkin_errors_total, echo[1].per_second,
      echo[16].per_second, kPgbenchClients, pgbench_tps,
      echo[16].per_second > 0 ? nearest[16].per_second / echo[16].per_second : 0,
      pgbench_tps > 0 ? one.per_second / pgbench_tps : 0, ok ? "true" : "false");
  return ok ? 0 : 1;
}
