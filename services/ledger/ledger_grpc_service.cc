#include "services/ledger/ledger_grpc_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "civicpoints/ledger/v1/errors.pb.h"
#include "common/server/call_handler.h"
#include "common/status/grpc_status.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/ledger/ledger.h"

namespace civicpoints::ledger {
namespace {

// auth::CheckStaffCovers, its denial carrying the ledger's reason.
absl::Status CheckCovers(const auth::Principal& p, const common::v1::OrgPath& path,
                         absl::string_view what) {
  return WithReason(auth::CheckStaffCovers(p, path, what),
                    v1::LEDGER_ERROR_REASON_OUTSIDE_ORG_SCOPE);
}

// A caller whose every grant is ROLE_RIDER may only see its own account.
bool OnlyRider(const auth::Principal& p) {
  return !p.roles.empty() &&
         std::all_of(p.roles.begin(), p.roles.end(),
                     [](const auth::RoleGrant& g) { return g.role == common::v1::ROLE_RIDER; });
}

absl::Status CheckOwn(const auth::Principal& p, const std::string& person_id) {
  if (OnlyRider(p) && p.subject != person_id) {
    return Refuse(absl::StatusCode::kPermissionDenied, v1::LEDGER_ERROR_REASON_NOT_OWN_ACCOUNT,
                  "riders may only see their own account");
  }
  return absl::OkStatus();
}

// Who may touch an account: its rider, or staff whose grants cover where it earned its points (an
// account that never earned any is nobody's yet, so staff anywhere may read its zeros).
absl::Status CheckAccount(const auth::Principal& p, const v1::Account& account) {
  if (OnlyRider(p)) return CheckOwn(p, account.person_id());
  if (!account.has_org_path()) return absl::OkStatus();
  return CheckCovers(p, account.org_path(), absl::StrCat("account ", account.person_id()));
}

// Who may read a named rider's place in a ranking: the rider, internal services, and staff and
// city systems whose grants cover the rider's account (the boards themselves are public, but a
// named rider's standing is read like their balance).
absl::Status CheckRankOf(const auth::Principal& p, Ledger& ledger, const std::string& person_id) {
  if (OnlyRider(p)) return CheckOwn(p, person_id);
  if (p.HasRole(common::v1::ROLE_INTERNAL_SERVICE)) return absl::OkStatus();
  ASSIGN_OR_RETURN(v1::Account account, ledger.GetBalance(person_id));
  return CheckAccount(p, account);
}

// Who may change a rider's standing in the rankings: staff whose grants cover where the rider's
// account earned its latest points. A person with no account has nothing to exclude or restore.
absl::Status CheckRiderInScope(const auth::Principal& p, const v1::Account& account) {
  if (!account.has_org_path()) {
    return absl::NotFoundError(absl::StrCat("person ", account.person_id(), " has no account"));
  }
  return CheckCovers(p, account.org_path(), absl::StrCat("account ", account.person_id()));
}

std::string ScopeName(const common::v1::OrgScope& scope) {
  if (scope.level() == common::v1::ORG_LEVEL_CITY) return "the city";
  return absl::StrCat("org node ", scope.org_id());
}

}  // namespace

grpc::Status LedgerGrpcService::Handle(
    grpc::ServerContext* ctx, const char* method,
    const std::function<absl::Status(const auth::Principal&)>& body) {
  return server::HandleCall(ctx, *authorizer_, v1::LedgerService::service_full_name(), method,
                            [&](const server::Call& call) { return body(*call.principal); });
}

absl::Status LedgerGrpcService::CheckScope(const auth::Principal& who,
                                           const common::v1::OrgScope& scope) {
  // The suite's own services act city-wide; no need to place the node for them.
  if (who.HasRole(common::v1::ROLE_INTERNAL_SERVICE)) return absl::OkStatus();
  ASSIGN_OR_RETURN(Ledger::OrgPlace place, ledger_->PlaceOf(scope));
  absl::Status covered = CheckCovers(who, place.path, ScopeName(scope));
  if (covered.ok() || place.placed) return covered;
  // Only a grant at the node itself (or the root) could be checked: the ledger cannot tell what
  // lies above a node no rider has points under, and it refuses rather than guess.
  return Refuse(
      absl::StatusCode::kPermissionDenied, v1::LEDGER_ERROR_REASON_OUTSIDE_ORG_SCOPE,
      absl::StrCat(
          ScopeName(scope),
          " is not inside the org nodes the caller's roles cover as far as the ledger can tell (no "
          "rider has points under it yet); ask with a grant at the node itself"));
}

#define CP_LEDGER_MUTATION(Method)                                                                 \
  grpc::Status LedgerGrpcService::Method(grpc::ServerContext* ctx, const v1::Method##Request* req, \
                                         v1::Method##Response* resp) {                             \
    return Handle(ctx, #Method, [&](const auth::Principal& who) -> absl::Status {                  \
      ASSIGN_OR_RETURN(*resp, ledger_->Method(*req, who.subject));                                 \
      return absl::OkStatus();                                                                     \
    });                                                                                            \
  }

CP_LEDGER_MUTATION(Award)
CP_LEDGER_MUTATION(BulkAward)
CP_LEDGER_MUTATION(Hold)
CP_LEDGER_MUTATION(Capture)
CP_LEDGER_MUTATION(Release)

#undef CP_LEDGER_MUTATION

grpc::Status LedgerGrpcService::ExcludeFromRankings(grpc::ServerContext* ctx,
                                                    const v1::ExcludeFromRankingsRequest* req,
                                                    v1::ExcludeFromRankingsResponse* resp) {
  return Handle(ctx, "ExcludeFromRankings", [&](const auth::Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Account account, ledger_->GetBalance(req->person_id()));
    RETURN_IF_ERROR(CheckRiderInScope(who, account));
    ASSIGN_OR_RETURN(*resp, ledger_->ExcludeFromRankings(*req, who.subject));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::RestoreToRankings(grpc::ServerContext* ctx,
                                                  const v1::RestoreToRankingsRequest* req,
                                                  v1::RestoreToRankingsResponse* resp) {
  return Handle(ctx, "RestoreToRankings", [&](const auth::Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Account account, ledger_->GetBalance(req->person_id()));
    RETURN_IF_ERROR(CheckRiderInScope(who, account));
    ASSIGN_OR_RETURN(*resp, ledger_->RestoreToRankings(*req, who.subject));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::Deduct(grpc::ServerContext* ctx, const v1::DeductRequest* req,
                                       v1::DeductResponse* resp) {
  return Handle(ctx, "Deduct", [&](const auth::Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Account account, ledger_->GetBalance(req->person_id()));
    RETURN_IF_ERROR(CheckAccount(who, account));
    ASSIGN_OR_RETURN(*resp, ledger_->Deduct(*req, who.subject));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::Reverse(grpc::ServerContext* ctx, const v1::ReverseRequest* req,
                                        v1::ReverseResponse* resp) {
  return Handle(ctx, "Reverse", [&](const auth::Principal& who) -> absl::Status {
    absl::StatusOr<v1::Entry> award = ledger_->GetEntry(req->entry_id());
    if (award.ok()) {
      RETURN_IF_ERROR(CheckCovers(who, award->org_path(), absl::StrCat("entry ", req->entry_id())));
    }
    ASSIGN_OR_RETURN(*resp, ledger_->Reverse(*req, who.subject));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetHold(grpc::ServerContext* ctx, const v1::GetHoldRequest* req,
                                        v1::GetHoldResponse* resp) {
  return Handle(ctx, "GetHold", [&](const auth::Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Hold hold, ledger_->GetHold(req->order_id()));
    ASSIGN_OR_RETURN(v1::Account account, ledger_->GetBalance(hold.person_id()));
    RETURN_IF_ERROR(CheckAccount(who, account));
    *resp->mutable_hold() = std::move(hold);
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetBalance(grpc::ServerContext* ctx,
                                           const v1::GetBalanceRequest* req,
                                           v1::GetBalanceResponse* resp) {
  return Handle(ctx, "GetBalance", [&](const auth::Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Account account, ledger_->GetBalance(req->person_id()));
    RETURN_IF_ERROR(CheckAccount(who, account));
    *resp->mutable_account() = std::move(account);
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetEntry(grpc::ServerContext* ctx, const v1::GetEntryRequest* req,
                                         v1::GetEntryResponse* resp) {
  return Handle(ctx, "GetEntry", [&](const auth::Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Entry entry, ledger_->GetEntry(req->entry_id()));
    ASSIGN_OR_RETURN(v1::Account account, ledger_->GetBalance(entry.person_id()));
    RETURN_IF_ERROR(CheckAccount(who, account));
    *resp->mutable_entry() = std::move(entry);
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::ListEntries(grpc::ServerContext* ctx,
                                            const v1::ListEntriesRequest* req,
                                            v1::ListEntriesResponse* resp) {
  return Handle(ctx, "ListEntries", [&](const auth::Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Account account, ledger_->GetBalance(req->person_id()));
    RETURN_IF_ERROR(CheckAccount(who, account));
    ASSIGN_OR_RETURN(*resp, ledger_->ListEntries(*req));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::VerifyJournal(grpc::ServerContext* ctx,
                                              const v1::VerifyJournalRequest* req,
                                              v1::VerifyJournalResponse* resp) {
  return Handle(ctx, "VerifyJournal", [&](const auth::Principal& who) -> absl::Status {
    if (req->person_id().empty()) {
      // Every account: the whole city's journal.
      common::v1::OrgScope city;
      city.set_level(common::v1::ORG_LEVEL_CITY);
      RETURN_IF_ERROR(CheckScope(who, city));
    } else {
      ASSIGN_OR_RETURN(v1::Account account, ledger_->GetBalance(req->person_id()));
      RETURN_IF_ERROR(CheckAccount(who, account));
    }
    ASSIGN_OR_RETURN(*resp, ledger_->VerifyJournal(*req, [ctx] { return ctx->IsCancelled(); }));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetPeriodTotals(grpc::ServerContext* ctx,
                                                const v1::GetPeriodTotalsRequest* req,
                                                v1::GetPeriodTotalsResponse* resp) {
  return Handle(ctx, "GetPeriodTotals", [&](const auth::Principal& who) -> absl::Status {
    ASSIGN_OR_RETURN(v1::Account account, ledger_->GetBalance(req->person_id()));
    RETURN_IF_ERROR(CheckAccount(who, account));
    ASSIGN_OR_RETURN(*resp, ledger_->GetPeriodTotals(*req));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetOrgStatistics(grpc::ServerContext* ctx,
                                                 const v1::GetOrgStatisticsRequest* req,
                                                 v1::GetOrgStatisticsResponse* resp) {
  return Handle(ctx, "GetOrgStatistics", [&](const auth::Principal& who) -> absl::Status {
    RETURN_IF_ERROR(CheckScope(who, req->scope()));
    ASSIGN_OR_RETURN(*resp, ledger_->GetOrgStatistics(*req));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetTopRanking(grpc::ServerContext* ctx,
                                              const v1::GetTopRankingRequest* req,
                                              v1::GetTopRankingResponse* resp) {
  return Handle(ctx, "GetTopRanking", [&](const auth::Principal&) -> absl::Status {
    ASSIGN_OR_RETURN(*resp, ledger_->GetTopRanking(*req));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetRank(grpc::ServerContext* ctx, const v1::GetRankRequest* req,
                                        v1::GetRankResponse* resp) {
  return Handle(ctx, "GetRank", [&](const auth::Principal& who) -> absl::Status {
    RETURN_IF_ERROR(CheckRankOf(who, *ledger_, req->person_id()));
    ASSIGN_OR_RETURN(*resp, ledger_->GetRank(*req));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetRankingNeighbours(grpc::ServerContext* ctx,
                                                     const v1::GetRankingNeighboursRequest* req,
                                                     v1::GetRankingNeighboursResponse* resp) {
  return Handle(ctx, "GetRankingNeighbours", [&](const auth::Principal& who) -> absl::Status {
    RETURN_IF_ERROR(CheckRankOf(who, *ledger_, req->person_id()));
    ASSIGN_OR_RETURN(*resp, ledger_->GetRankingNeighbours(*req));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::ListRankingExclusions(grpc::ServerContext* ctx,
                                                      const v1::ListRankingExclusionsRequest* req,
                                                      v1::ListRankingExclusionsResponse* resp) {
  return Handle(ctx, "ListRankingExclusions", [&](const auth::Principal& who) -> absl::Status {
    RETURN_IF_ERROR(CheckScope(who, req->scope()));
    ASSIGN_OR_RETURN(*resp, ledger_->ListRankingExclusions(*req));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::CreateSeason(grpc::ServerContext* ctx,
                                             const v1::CreateSeasonRequest* req,
                                             v1::CreateSeasonResponse* resp) {
  return Handle(ctx, "CreateSeason", [&](const auth::Principal& who) -> absl::Status {
    RETURN_IF_ERROR(CheckScope(who, req->scope()));
    ASSIGN_OR_RETURN(*resp->mutable_season(), ledger_->CreateSeason(*req, who.subject));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetSeason(grpc::ServerContext* ctx, const v1::GetSeasonRequest* req,
                                          v1::GetSeasonResponse* resp) {
  return Handle(ctx, "GetSeason", [&](const auth::Principal&) -> absl::Status {
    ASSIGN_OR_RETURN(*resp->mutable_season(), ledger_->GetSeason(req->season_id()));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::ListSeasons(grpc::ServerContext* ctx,
                                            const v1::ListSeasonsRequest* req,
                                            v1::ListSeasonsResponse* resp) {
  return Handle(ctx, "ListSeasons", [&](const auth::Principal&) -> absl::Status {
    ASSIGN_OR_RETURN(*resp, ledger_->ListSeasons(*req));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::SnapshotRanking(grpc::ServerContext* ctx,
                                                const v1::SnapshotRankingRequest* req,
                                                v1::SnapshotRankingResponse* resp) {
  return Handle(ctx, "SnapshotRanking", [&](const auth::Principal& who) -> absl::Status {
    RETURN_IF_ERROR(CheckScope(who, req->scope()));
    ASSIGN_OR_RETURN(*resp->mutable_snapshot(), ledger_->SnapshotRanking(*req, who.subject));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::GetRankingSnapshot(grpc::ServerContext* ctx,
                                                   const v1::GetRankingSnapshotRequest* req,
                                                   v1::GetRankingSnapshotResponse* resp) {
  return Handle(ctx, "GetRankingSnapshot", [&](const auth::Principal&) -> absl::Status {
    ASSIGN_OR_RETURN(*resp->mutable_snapshot(), ledger_->GetRankingSnapshot(req->snapshot_id()));
    return absl::OkStatus();
  });
}

grpc::Status LedgerGrpcService::RebuildRankings(grpc::ServerContext* ctx,
                                                const v1::RebuildRankingsRequest* req,
                                                v1::RebuildRankingsResponse* resp) {
  return Handle(ctx, "RebuildRankings", [&](const auth::Principal&) -> absl::Status {
    ASSIGN_OR_RETURN(*resp, ledger_->RebuildRankings(*req));
    return absl::OkStatus();
  });
}

}  // namespace civicpoints::ledger
