// Plumbing shared by every rewards method: authorization, transactions, idempotency, throttles,
// stations and their scope, and the background thread.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/base/request_hash.h"
#include "common/base/text.h"
#include "common/log/log.h"
#include "common/pg/pg_pool.h"
#include "common/pg/transactions.h"
#include "common/server/call_handler.h"
#include "common/status/grpc_status.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"

namespace civicpoints::rewards {

using common::v1::ROLE_INTERNAL_SERVICE;
using common::v1::ROLE_RIDER;
using common::v1::ROLE_STATION_KEEPER;

RewardsServiceImpl::RewardsServiceImpl(pg::PgPool* pool, const auth::Authorizer* authorizer,
                                       LedgerClient* ledger, Directory* directory,
                                       RewardsOptions options)
    : pool_(pool),
      throttle_(
          pool,
          [](int64_t seconds) {
            return Refuse(
                absl::StatusCode::kResourceExhausted, v1::ERROR_REASON_TOO_MANY_CODE_ATTEMPTS,
                absl::StrCat("too many wrong pickup codes; try again in ", seconds, " seconds"),
                {{"retry_after_seconds", std::to_string(seconds)}});
          }),
      authorizer_(authorizer),
      ledger_(ledger),
      directory_(directory),
      options_(std::move(options)),
      stock_batcher_(std::make_unique<StockBatcher>(pool)) {}

RewardsServiceImpl::~RewardsServiceImpl() { StopBackground(); }

grpc::Status RewardsServiceImpl::Handle(grpc::ServerContext* ctx, const char* method,
                                        const Body& body) {
  return server::HandleCall(ctx, *authorizer_, v1::RewardsService::service_full_name(), method,
                            [&](const server::Call& call) {
                              return body(Caller{.principal = call.principal, .now = call.now});
                            });
}

absl::Status RewardsServiceImpl::InTx(absl::string_view what, const TxFn& fn) {
  return pg::InTx(*pool_, what, fn);
}

absl::Status RewardsServiceImpl::InReadTx(absl::string_view what, const TxFn& fn) {
  return pg::InReadTx(*pool_, what, fn);
}

absl::Status RewardsServiceImpl::Idempotent(const auth::Principal& who, const std::string& method,
                                            const std::string& key,
                                            const google::protobuf::Message& request,
                                            google::protobuf::Message* response, const TxFn& fn) {
  // The caller's subject (a person or service-account id) is stable across token renewals, so a
  // retry under a new token still replays. Same "<method>|<caller>" form as FulfilRedemption's.
  return pg::RunIdempotent(*pool_, absl::StrCat(method, "|", who.subject), key,
                           RequestHash(request), response, fn,
                           pg::KeyReused(v1::ERROR_REASON_IDEMPOTENCY_KEY_REUSED));
}

absl::StatusOr<StationInfo> RewardsServiceImpl::Station(const std::string& station_id) {
  RETURN_IF_ERROR(CheckId(station_id, "station_id"));
  std::optional<StationInfo> cached;
  bool fresh = false;
  RETURN_IF_ERROR(InReadTx("load station", [&](pqxx::transaction_base& tx) {
    pqxx::result r = tx.exec_params(
        "SELECT district_id, street_id, community_id, keeper_person_id, "
        "now() - checked_at < interval '60 seconds' FROM stations WHERE station_id = $1",
        station_id);
    if (!r.empty()) {
      StationInfo info;
      info.station_id = station_id;
      info.is_rider_station = info.active = true;
      info.org_path.set_district_id(r[0][0].as<std::string>());
      info.org_path.set_street_id(r[0][1].as<std::string>());
      info.org_path.set_community_id(r[0][2].as<std::string>());
      info.keeper_person_id = r[0][3].as<std::string>();
      fresh = r[0][4].as<bool>();
      cached = info;
    }
    return absl::OkStatus();
  }));
  if (cached.has_value() && fresh) return *cached;
  absl::StatusOr<StationInfo> info = directory_->GetStation(station_id);
  if (!info.ok()) {
    if (info.status().code() == absl::StatusCode::kNotFound) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_NOT_A_STATION,
                    absl::StrCat("station_id: ", station_id, " is not a place in activity"));
    }
    // Activity down: the copy we have still says where the station is.
    if (cached.has_value()) return *cached;
    return info.status();
  }
  if (!info->is_rider_station || !info->active) {
    return Refuse(absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_NOT_A_STATION,
                  absl::StrCat("station_id: ", station_id,
                               info->is_rider_station ? " is a retired rider station"
                                                      : " is not a rider station"));
  }
  RETURN_IF_ERROR(InTx("save station", [&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "INSERT INTO stations (station_id, district_id, street_id, community_id, "
        "keeper_person_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (station_id) DO UPDATE SET "
        "keeper_person_id = EXCLUDED.keeper_person_id, checked_at = now()",
        station_id, info->org_path.district_id(), info->org_path.street_id(),
        info->org_path.community_id(), info->keeper_person_id);
    return absl::OkStatus();
  }));
  return info;
}

absl::Status RewardsServiceImpl::CheckStationScope(const auth::Principal& who,
                                                   const StationInfo& station) {
  for (const auth::RoleGrant& g : who.roles) {
    if (g.role == ROLE_INTERNAL_SERVICE) return absl::OkStatus();
    // A city system's grant is at its account's node: it reaches that subtree only.
    if (g.role == ROLE_RIDER || !auth::GrantCovers(g, station.org_path)) continue;
    // A keeper acts only at the stations activity names them keeper of.
    if (g.role == ROLE_STATION_KEEPER && station.keeper_person_id != who.subject) continue;
    return absl::OkStatus();
  }
  return Refuse(absl::StatusCode::kPermissionDenied, v1::ERROR_REASON_NOT_STATION_KEEPER,
                absl::StrCat("station ", station.station_id,
                             " is not kept by the caller nor inside their staff scope"));
}

// ---- background ----

void RewardsServiceImpl::StartBackground() {
  absl::MutexLock lock(&mu_);
  if (background_.joinable() || stop_.HasBeenNotified()) return;
  background_ = std::thread([this] { BackgroundLoop(); });
}

void RewardsServiceImpl::StopBackground() {
  std::thread t;
  {
    absl::MutexLock lock(&mu_);
    if (!stop_.HasBeenNotified()) stop_.Notify();
    t = std::move(background_);
  }
  if (t.joinable()) t.join();
}

void RewardsServiceImpl::BackgroundLoop() {
  // Once at start with no age limit would race live calls of other replicas; the age keeps it safe.
  while (!stop_.WaitForNotificationWithTimeout(options_.background_interval)) {
    MaintenanceCounts n = RunMaintenance(absl::Now(), options_.recovery_age);
    if (n.windows_opened + n.windows_closed + n.orders_expired + n.orders_recovered > 0) {
      log::Info("rewards maintenance", {{"windows_opened", n.windows_opened},
                                        {"windows_closed", n.windows_closed},
                                        {"orders_expired", n.orders_expired},
                                        {"orders_recovered", n.orders_recovered}});
    }
  }
}

}  // namespace civicpoints::rewards
