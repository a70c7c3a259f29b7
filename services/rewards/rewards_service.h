// RewardsServiceImpl: the rewards service (rewards_service.proto) over PostgreSQL schema `rewards`,
// the ledger (points move only through Hold/Capture/Release) and the Directory (stations from
// activity, org nodes from identity). Each method checks the caller against the method's declared
// access policy, validates its input (INVALID_ARGUMENT naming the field, nothing written), checks
// org scope on the resource, then works in one transaction; refusals carry an ErrorInfo reason
// (errors.proto). Methods live in files by area: catalog_methods.cc, stock_methods.cc,
// window_methods.cc, eligibility_methods.cc, redemption_methods.cc and stats_methods.cc; shared
// plumbing is in service_support.cc. The redemption path is in the ledger's shape: its handlers
// only translate, saga.cc runs the saga (placing, holding, settling, recovery), its decisions are
// pure functions in redemption_rules.h and its SQL is in PgRedemptionStore.
//
// Background work (StartBackground): open and close windows on time, expire READY orders, and
// finish or unwind orders a crash left half-way. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_REWARDS_REWARDS_SERVICE_H_
#define CIVICPOINTS_SERVICES_REWARDS_REWARDS_SERVICE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "common/auth/method_policy.h"
#include "common/pg/throttle.h"
#include "services/rewards/directory.h"
#include "services/rewards/ledger_client.h"
#include "services/rewards/pg_catalog_store.h"
#include "services/rewards/pg_redemption_store.h"
#include "services/rewards/pg_stock_store.h"
#include "services/rewards/pg_window_store.h"
#include "services/rewards/redemption_rules.h"
#include "services/rewards/stock_batcher.h"

namespace pqxx {
class transaction_base;
}  // namespace pqxx
namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::rewards {

struct RewardsOptions {
  // Pickup time of READY orders in windows that do not set pickup_ttl.
  absl::Duration default_pickup_ttl = absl::Hours(24);
  // How much longer than the pickup time the ledger's hold lives, so rewards' own expiry releases
  // it first and the ledger's timeout only matters if rewards is gone for good. (A READY order's
  // pickup never outlasts its hold whatever this is: a hold taken long before the order could be
  // made READY has less left.)
  absl::Duration hold_margin = absl::Hours(1);
  // Orders PENDING, or with a settling step under way, for longer than this are taken over by the
  // recovery pass (longer than any call's deadline, so a live call is never raced).
  absl::Duration recovery_age = absl::Seconds(60);
  // How often the background pass runs.
  absl::Duration background_interval = absl::Seconds(5);
  // A station's gift is announced as low on stock (stock_low) when an order takes its available
  // count to this or below; 0: never.
  int low_stock_threshold = 5;
  // Test hook, run after an order's ledger hold succeeded and before its stock step; returning
  // false stops the saga there, as a crash of the process would.
  std::function<bool(const std::string& redemption_id)> after_hold;
};

// What one maintenance pass did.
struct MaintenanceCounts {
  int windows_opened = 0;
  int windows_closed = 0;
  int orders_expired = 0;
  int orders_recovered = 0;
};

// Who is calling (the principal's grants narrowed to the method's roles) and when.
struct Caller {
  const auth::Principal* principal = nullptr;
  absl::Time now;
  const auth::Principal& who() const { return *principal; }
};

class RewardsServiceImpl final : public v1::RewardsService::Service {
 public:
  // All pointers must outlive the service.
  RewardsServiceImpl(pg::PgPool* pool, const auth::Authorizer* authorizer, LedgerClient* ledger,
                     Directory* directory, RewardsOptions options);
  ~RewardsServiceImpl() override;

  // Starts the background thread (idempotent); the destructor stops it.
  void StartBackground();
  void StopBackground();

  // One maintenance pass as of `now`: opens SCHEDULED windows whose start_time passed, closes OPEN
  // windows whose end_time passed, expires READY orders past expire_time, and takes over orders
  // left PENDING or half-settled for longer than `min_age`. Errors are logged and retried next
  // pass.
  MaintenanceCounts RunMaintenance(absl::Time now, absl::Duration min_age);

  // catalog
  grpc::Status CreateGift(grpc::ServerContext* ctx, const v1::CreateGiftRequest* req,
                          v1::CreateGiftResponse* resp) override;
  grpc::Status GetGift(grpc::ServerContext* ctx, const v1::GetGiftRequest* req,
                       v1::GetGiftResponse* resp) override;
  grpc::Status ListGifts(grpc::ServerContext* ctx, const v1::ListGiftsRequest* req,
                         v1::ListGiftsResponse* resp) override;
  grpc::Status UpdateGift(grpc::ServerContext* ctx, const v1::UpdateGiftRequest* req,
                          v1::UpdateGiftResponse* resp) override;
  grpc::Status ListGiftAvailability(grpc::ServerContext* ctx,
                                    const v1::ListGiftAvailabilityRequest* req,
                                    v1::ListGiftAvailabilityResponse* resp) override;
  // stock
  grpc::Status ListStationStock(grpc::ServerContext* ctx, const v1::ListStationStockRequest* req,
                                v1::ListStationStockResponse* resp) override;
  grpc::Status AddStationStock(grpc::ServerContext* ctx, const v1::AddStationStockRequest* req,
                               v1::AddStationStockResponse* resp) override;
  grpc::Status CorrectStationStock(grpc::ServerContext* ctx,
                                   const v1::CorrectStationStockRequest* req,
                                   v1::CorrectStationStockResponse* resp) override;
  grpc::Status ListStockMovements(grpc::ServerContext* ctx,
                                  const v1::ListStockMovementsRequest* req,
                                  v1::ListStockMovementsResponse* resp) override;
  // windows
  grpc::Status CreateExchangeWindow(grpc::ServerContext* ctx,
                                    const v1::CreateExchangeWindowRequest* req,
                                    v1::CreateExchangeWindowResponse* resp) override;
  grpc::Status GetExchangeWindow(grpc::ServerContext* ctx, const v1::GetExchangeWindowRequest* req,
                                 v1::GetExchangeWindowResponse* resp) override;
  grpc::Status ListExchangeWindows(grpc::ServerContext* ctx,
                                   const v1::ListExchangeWindowsRequest* req,
                                   v1::ListExchangeWindowsResponse* resp) override;
  grpc::Status UpdateExchangeWindow(grpc::ServerContext* ctx,
                                    const v1::UpdateExchangeWindowRequest* req,
                                    v1::UpdateExchangeWindowResponse* resp) override;
  grpc::Status OpenExchangeWindow(grpc::ServerContext* ctx,
                                  const v1::OpenExchangeWindowRequest* req,
                                  v1::OpenExchangeWindowResponse* resp) override;
  grpc::Status CloseExchangeWindow(grpc::ServerContext* ctx,
                                   const v1::CloseExchangeWindowRequest* req,
                                   v1::CloseExchangeWindowResponse* resp) override;
  // eligibility
  grpc::Status ListMyEligibleExchangeWindows(
      grpc::ServerContext* ctx, const v1::ListMyEligibleExchangeWindowsRequest* req,
      v1::ListMyEligibleExchangeWindowsResponse* resp) override;
  grpc::Status GetExchangeWindowEligibility(
      grpc::ServerContext* ctx, const v1::GetExchangeWindowEligibilityRequest* req,
      v1::GetExchangeWindowEligibilityResponse* resp) override;
  grpc::Status ListExchangeWindowEligibleRiders(
      grpc::ServerContext* ctx, const v1::ListExchangeWindowEligibleRidersRequest* req,
      v1::ListExchangeWindowEligibleRidersResponse* resp) override;
  // redemptions
  grpc::Status CreateRedemption(grpc::ServerContext* ctx, const v1::CreateRedemptionRequest* req,
                                v1::CreateRedemptionResponse* resp) override;
  grpc::Status GetRedemption(grpc::ServerContext* ctx, const v1::GetRedemptionRequest* req,
                             v1::GetRedemptionResponse* resp) override;
  grpc::Status ListMyRedemptions(grpc::ServerContext* ctx, const v1::ListMyRedemptionsRequest* req,
                                 v1::ListMyRedemptionsResponse* resp) override;
  grpc::Status CancelRedemption(grpc::ServerContext* ctx, const v1::CancelRedemptionRequest* req,
                                v1::CancelRedemptionResponse* resp) override;
  grpc::Status CloseRiderOrders(grpc::ServerContext* ctx, const v1::CloseRiderOrdersRequest* req,
                                v1::CloseRiderOrdersResponse* resp) override;
  grpc::Status FulfilRedemption(grpc::ServerContext* ctx, const v1::FulfilRedemptionRequest* req,
                                v1::FulfilRedemptionResponse* resp) override;
  grpc::Status ListStationPickups(grpc::ServerContext* ctx,
                                  const v1::ListStationPickupsRequest* req,
                                  v1::ListStationPickupsResponse* resp) override;
  // dashboard
  grpc::Status GetRedemptionStats(grpc::ServerContext* ctx,
                                  const v1::GetRedemptionStatsRequest* req,
                                  v1::GetRedemptionStatsResponse* resp) override;

 private:
  using Body = std::function<absl::Status(const Caller&)>;
  using TxFn = std::function<absl::Status(pqxx::transaction_base&)>;

  // Authorizes the call against `method`'s policy, runs `body`, converts its status.
  grpc::Status Handle(grpc::ServerContext* ctx, const char* method, const Body& body);
  absl::Status InTx(absl::string_view what, const TxFn& fn);
  absl::Status InReadTx(absl::string_view what, const TxFn& fn);
  // Runs `fn` once per (caller, method, key): a repeat with the same request returns the stored
  // response, another request under the caller's key is FAILED_PRECONDITION
  // (IDEMPOTENCY_KEY_REUSED). Keys belong to their caller (`who.subject`), so nobody can take or
  // replay another's.
  absl::Status Idempotent(const auth::Principal& who, const std::string& method,
                          const std::string& key, const google::protobuf::Message& request,
                          google::protobuf::Message* response, const TxFn& fn);
  // The station `station_id` from the local copy, refreshed from activity when older than a
  // minute. Errors: FAILED_PRECONDITION (NOT_A_STATION) when activity knows no active rider
  // station of that id; UNAVAILABLE when activity is down and no copy exists.
  absl::StatusOr<StationInfo> Station(const std::string& station_id);
  // OK when the caller keeps the station (a keeper grant covering it and named its keeper by
  // activity) or holds another staff role covering it. Errors: PERMISSION_DENIED
  // (NOT_STATION_KEEPER).
  static absl::Status CheckStationScope(const auth::Principal& who, const StationInfo& station);

  // The saga (saga.cc; its rules in redemption_rules.h). Each step is idempotent and safe to run
  // from any process.
  // Accepts an order under the rider's key: the order PENDING (`fresh`, as just inserted), or the
  // order or refusal the key answered with before. Errors: the refusal; IDEMPOTENCY_KEY_REUSED;
  // ABORTED when another order of the rider in the window is being placed.
  struct PlacedOrder {
    std::string redemption_id;
    std::optional<PgRedemptionStore::Order> fresh;
  };
  absl::StatusOr<PlacedOrder> PlaceOrder(const std::string& rider, const std::string& key,
                                         const std::string& request_hash, const OrderRequest& req,
                                         absl::Time now);
  // An order placed by this call whose hold the ledger refused for too few points: deleted (it
  // held nothing and reserved nothing) and its key given the refusal, which `refusal` is set to.
  // Left unset when the order moved on meanwhile (a retry of the same key got to it first).
  // ABORTED (retry with the same key) when the points are there after all or the ledger holds
  // something under the order.
  absl::Status DropUnaffordableOrder(const v1::Redemption& order,
                                     std::optional<absl::Status>* refusal);
  // Drives a PENDING order forward: hold, then stock reservation → READY, or release → FAILED.
  // Returns the order's final status for the caller (the refusal when it FAILED). `fresh` is the
  // order as just inserted, saving a read.
  absl::Status AdvancePending(const std::string& redemption_id, v1::Redemption* out,
                              const PgRedemptionStore::Order* fresh = nullptr);
  // Finishes a settling step recorded in `intent` (capture or release, then the final state).
  absl::Status Settle(const std::string& redemption_id, v1::Redemption* out);
  absl::Status LoadRedemption(const std::string& redemption_id, v1::Redemption* out);
  // A keeper's entry of a pickup code at a station (redemption_methods.cc): the order it starts
  // handing over, or resumes under a repeated key. Errors: the pickup's refusal; RESOURCE_EXHAUSTED
  // past the keeper's wrong codes.
  absl::StatusOr<std::string> EnterPickupCode(const std::string& keeper,
                                              const std::string& station_id,
                                              const std::string& code, const std::string& key,
                                              const std::string& request_hash, absl::Time now);

  // Opens a SCHEDULED window (freezing its ranking cut from the ledger) as of `now`.
  absl::Status DoOpenWindow(const std::string& window_id, absl::Time now);

  void BackgroundLoop();

  pg::PgPool* const pool_;
  pg::Throttle throttle_;  // wrong pickup codes per keeper
  const PgRedemptionStore redemptions_{};
  const PgCatalogStore catalog_{};
  const PgStockStore stock_{};
  const PgWindowStore windows_{};
  const auth::Authorizer* const authorizer_;
  LedgerClient* const ledger_;
  Directory* const directory_;
  const RewardsOptions options_;
  // The stock steps of concurrent orders share transactions (see stock_batcher.h).
  std::unique_ptr<StockBatcher> stock_batcher_;

  absl::Mutex mu_;
  std::thread background_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
};

}  // namespace civicpoints::rewards

#endif  // CIVICPOINTS_SERVICES_REWARDS_REWARDS_SERVICE_H_
