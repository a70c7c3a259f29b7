// LedgerGrpcService: the ledger's gRPC face. Converts between the wire and the Ledger, checks
// each call's access policy (declared on the method in ledger_service.proto), that riders touch
// only their own account, and that staff and city systems touch only accounts (by the org path
// the account earned its latest points in) and org nodes (rankings, statistics, seasons,
// exclusions) where their grants reach. The only place grpc::Status appears.
#ifndef CIVICPOINTS_SERVICES_LEDGER_LEDGER_GRPC_SERVICE_H_
#define CIVICPOINTS_SERVICES_LEDGER_LEDGER_GRPC_SERVICE_H_

#include <functional>
#include <memory>

#include "civicpoints/ledger/v1/ledger_service.grpc.pb.h"
#include "common/auth/method_policy.h"

namespace civicpoints::ledger {

class Ledger;

class LedgerGrpcService : public v1::LedgerService::Service {
 public:
  // `ledger` and `authorizer` must outlive the service.
  LedgerGrpcService(Ledger* ledger, const auth::Authorizer* authorizer)
      : ledger_(ledger), authorizer_(authorizer) {}

  grpc::Status Award(grpc::ServerContext* ctx, const v1::AwardRequest* req,
                     v1::AwardResponse* resp) override;
  grpc::Status BulkAward(grpc::ServerContext* ctx, const v1::BulkAwardRequest* req,
                         v1::BulkAwardResponse* resp) override;
  grpc::Status Deduct(grpc::ServerContext* ctx, const v1::DeductRequest* req,
                      v1::DeductResponse* resp) override;
  grpc::Status Reverse(grpc::ServerContext* ctx, const v1::ReverseRequest* req,
                       v1::ReverseResponse* resp) override;
  grpc::Status Hold(grpc::ServerContext* ctx, const v1::HoldRequest* req,
                    v1::HoldResponse* resp) override;
  grpc::Status Capture(grpc::ServerContext* ctx, const v1::CaptureRequest* req,
                       v1::CaptureResponse* resp) override;
  grpc::Status Release(grpc::ServerContext* ctx, const v1::ReleaseRequest* req,
                       v1::ReleaseResponse* resp) override;
  grpc::Status GetHold(grpc::ServerContext* ctx, const v1::GetHoldRequest* req,
                       v1::GetHoldResponse* resp) override;
  grpc::Status GetBalance(grpc::ServerContext* ctx, const v1::GetBalanceRequest* req,
                          v1::GetBalanceResponse* resp) override;
  grpc::Status GetEntry(grpc::ServerContext* ctx, const v1::GetEntryRequest* req,
                        v1::GetEntryResponse* resp) override;
  grpc::Status ListEntries(grpc::ServerContext* ctx, const v1::ListEntriesRequest* req,
                           v1::ListEntriesResponse* resp) override;
  grpc::Status VerifyJournal(grpc::ServerContext* ctx, const v1::VerifyJournalRequest* req,
                             v1::VerifyJournalResponse* resp) override;
  grpc::Status GetPeriodTotals(grpc::ServerContext* ctx, const v1::GetPeriodTotalsRequest* req,
                               v1::GetPeriodTotalsResponse* resp) override;
  grpc::Status GetOrgStatistics(grpc::ServerContext* ctx, const v1::GetOrgStatisticsRequest* req,
                                v1::GetOrgStatisticsResponse* resp) override;
  grpc::Status GetTopRanking(grpc::ServerContext* ctx, const v1::GetTopRankingRequest* req,
                             v1::GetTopRankingResponse* resp) override;
  grpc::Status GetRank(grpc::ServerContext* ctx, const v1::GetRankRequest* req,
                       v1::GetRankResponse* resp) override;
  grpc::Status GetRankingNeighbours(grpc::ServerContext* ctx,
                                    const v1::GetRankingNeighboursRequest* req,
                                    v1::GetRankingNeighboursResponse* resp) override;
  grpc::Status ExcludeFromRankings(grpc::ServerContext* ctx,
                                   const v1::ExcludeFromRankingsRequest* req,
                                   v1::ExcludeFromRankingsResponse* resp) override;
  grpc::Status RestoreToRankings(grpc::ServerContext* ctx, const v1::RestoreToRankingsRequest* req,
                                 v1::RestoreToRankingsResponse* resp) override;
  grpc::Status ListRankingExclusions(grpc::ServerContext* ctx,
                                     const v1::ListRankingExclusionsRequest* req,
                                     v1::ListRankingExclusionsResponse* resp) override;
  grpc::Status CreateSeason(grpc::ServerContext* ctx, const v1::CreateSeasonRequest* req,
                            v1::CreateSeasonResponse* resp) override;
  grpc::Status GetSeason(grpc::ServerContext* ctx, const v1::GetSeasonRequest* req,
                         v1::GetSeasonResponse* resp) override;
  grpc::Status ListSeasons(grpc::ServerContext* ctx, const v1::ListSeasonsRequest* req,
                           v1::ListSeasonsResponse* resp) override;
  grpc::Status SnapshotRanking(grpc::ServerContext* ctx, const v1::SnapshotRankingRequest* req,
                               v1::SnapshotRankingResponse* resp) override;
  grpc::Status GetRankingSnapshot(grpc::ServerContext* ctx,
                                  const v1::GetRankingSnapshotRequest* req,
                                  v1::GetRankingSnapshotResponse* resp) override;
  grpc::Status RebuildRankings(grpc::ServerContext* ctx, const v1::RebuildRankingsRequest* req,
                               v1::RebuildRankingsResponse* resp) override;

 private:
  // Org scope of a call naming an org node (a ranking, statistics, a season): OK for internal
  // services, and for staff and city systems whose grants cover the node. Errors: INVALID_ARGUMENT
  // for a malformed scope; PERMISSION_DENIED when no grant covers it, or when only a grant above
  // it could and the ledger cannot place the node (no rider has points under it).
  absl::Status CheckScope(const auth::Principal& who, const common::v1::OrgScope& scope);
  // Authorizes the call to `method` and runs `body` with the caller.
  grpc::Status Handle(grpc::ServerContext* ctx, const char* method,
                      const std::function<absl::Status(const auth::Principal&)>& body);

  Ledger* const ledger_;
  const auth::Authorizer* const authorizer_;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_LEDGER_GRPC_SERVICE_H_
