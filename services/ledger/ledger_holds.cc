// Ledger's holds: Hold, Capture and Release of an order's points, the timeout sweep, and GetHold.
#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "civicpoints/ledger/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/base/time_units.h"
#include "common/log/log.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_support.h"
#include "services/ledger/pg_ledger_store.h"

namespace civicpoints::ledger {

namespace gp = ::google::protobuf;
using gp::util::TimeUtil;
using support::CheckAmount;
using support::CheckFullPath;
using support::CheckId;
using support::CheckReason;
using support::Invalid;
using support::ToProto;

absl::StatusOr<v1::HoldResponse> Ledger::Hold(const v1::HoldRequest& req,
                                              const std::string& actor) {
  RETURN_IF_ERROR(text::CheckIdempotencyKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.order_id(), "order_id"));
  RETURN_IF_ERROR(CheckId(req.person_id(), "person_id"));
  RETURN_IF_ERROR(CheckAmount(req.amount()));
  RETURN_IF_ERROR(CheckReason(req.reason(), false));
  std::optional<absl::Duration> timeout;
  if (req.has_timeout()) {
    const absl::Duration d =
        absl::Seconds(req.timeout().seconds()) + absl::Nanoseconds(req.timeout().nanos());
    if (d < absl::Minutes(1) || d > absl::Hours(24 * 30)) {
      return Invalid("timeout: must be between 1 minute and 30 days");
    }
    timeout = d;
  }
  const common::v1::OrgPath& path = req.org_path();
  const bool path_set =
      !path.district_id().empty() || !path.street_id().empty() || !path.community_id().empty();
  if (path_set) RETURN_IF_ERROR(CheckFullPath(path, "org_path"));

  v1::HoldResponse response;
  RETURN_IF_ERROR(Mutate(
      actor, "Hold", req.idempotency_key(), req, req.person_id(), &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, int64_t*) {
        auto* resp = static_cast<v1::HoldResponse*>(out);
        ASSIGN_OR_RETURN(std::optional<v1::Hold> existing, store_->LockHold(tx, req.order_id()));
        if (existing.has_value()) {
          return absl::AlreadyExistsError(
              absl::StrCat("order ", req.order_id(), " already has a hold (entry ",
                           existing->hold_entry_id(), ") under another idempotency key"));
        }
        Posting p{.person_id = req.person_id(),
                  .kind = v1::ENTRY_KIND_HOLD,
                  .amount = req.amount(),
                  .available_delta = -req.amount(),
                  .held_delta = req.amount(),
                  .source_kind = v1::SOURCE_KIND_REDEMPTION,
                  .source_id = req.order_id(),
                  .org_path = path,
                  .reason = req.reason(),
                  .actor_id = actor,
                  .order_id = req.order_id()};
        absl::StatusOr<v1::Entry> entry = store_->Post(tx, p);
        if (!entry.ok()) {
          if (entry.status().code() == absl::StatusCode::kFailedPrecondition &&
              !PgLedgerStore::IsDatabaseFailure(entry.status())) {
            return Refuse(absl::StatusCode::kFailedPrecondition,
                          v1::LEDGER_ERROR_REASON_INSUFFICIENT_POINTS,
                          absl::StrCat("not enough points to hold ", req.amount(), " for order ",
                                       req.order_id(), ": ", entry.status().message()));
          }
          return entry.status();
        }
        v1::Hold hold;
        hold.set_order_id(req.order_id());
        hold.set_person_id(req.person_id());
        hold.set_amount(req.amount());
        hold.set_state(v1::HOLD_STATE_HELD);
        if (timeout.has_value()) {
          *hold.mutable_expire_time() = ToProto(times::TimeOf(entry->create_time()) + *timeout);
        }
        if (path_set) *hold.mutable_org_path() = path;
        hold.set_hold_entry_id(entry->entry_id());
        *hold.mutable_create_time() = entry->create_time();
        RETURN_IF_ERROR(store_->InsertHold(tx, hold, *entry, path));
        *resp->mutable_hold() = hold;
        *resp->mutable_entry() = *entry;
        ASSIGN_OR_RETURN(std::optional<v1::Account> account,
                         store_->LoadAccountTx(tx, req.person_id()));
        *resp->mutable_account() = *account;
        return absl::OkStatus();
      }));
  return response;
}

absl::StatusOr<v1::CaptureResponse> Ledger::Capture(const v1::CaptureRequest& req,
                                                    const std::string& actor) {
  RETURN_IF_ERROR(text::CheckIdempotencyKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.order_id(), "order_id"));
  v1::CaptureResponse response;
  RETURN_IF_ERROR(Mutate(
      actor, "Capture", req.idempotency_key(), req, LockOrderForHold(req.order_id()), &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, int64_t*) {
        auto* resp = static_cast<v1::CaptureResponse*>(out);
        ASSIGN_OR_RETURN(std::optional<v1::Hold> hold, store_->LockHold(tx, req.order_id()));
        if (!hold.has_value()) {
          return absl::NotFoundError(absl::StrCat("order ", req.order_id(), " has no hold"));
        }
        if (hold->state() == v1::HOLD_STATE_RELEASED) {
          return Refuse(
              absl::StatusCode::kFailedPrecondition, v1::LEDGER_ERROR_REASON_HOLD_RELEASED,
              absl::StrCat("the hold of order ", req.order_id(), " was released",
                           hold->expired() ? " when it timed out" : "", "; nothing to capture"));
        }
        if (hold->state() == v1::HOLD_STATE_CAPTURED) {
          return Refuse(
              absl::StatusCode::kFailedPrecondition, v1::LEDGER_ERROR_REASON_HOLD_CAPTURED,
              absl::StrCat("the hold of order ", req.order_id(), " was already captured (entry ",
                           hold->settle_entry_id(), ")"));
        }
        if (hold->has_expire_time() && times::TimeOf(hold->expire_time()) <= absl::Now()) {
          return Refuse(absl::StatusCode::kFailedPrecondition, v1::LEDGER_ERROR_REASON_HOLD_EXPIRED,
                        absl::StrCat("the hold of order ", req.order_id(), " expired at ",
                                     TimeUtil::ToString(hold->expire_time())));
        }
        Posting p{.person_id = hold->person_id(),
                  .kind = v1::ENTRY_KIND_CAPTURE,
                  .amount = hold->amount(),
                  .held_delta = -hold->amount(),
                  .source_kind = v1::SOURCE_KIND_REDEMPTION,
                  .source_id = req.order_id(),
                  .org_path = hold->org_path(),
                  .actor_id = actor,
                  .order_id = req.order_id()};
        ASSIGN_OR_RETURN(v1::Entry entry, store_->Post(tx, p));
        RETURN_IF_ERROR(
            store_->SettleHold(tx, req.order_id(), v1::HOLD_STATE_CAPTURED, entry, false));
        hold->set_state(v1::HOLD_STATE_CAPTURED);
        hold->set_settle_entry_id(entry.entry_id());
        *hold->mutable_settle_time() = entry.create_time();
        *resp->mutable_hold() = *hold;
        *resp->mutable_entry() = entry;
        ASSIGN_OR_RETURN(std::optional<v1::Account> account,
                         store_->LoadAccountTx(tx, hold->person_id()));
        *resp->mutable_account() = *account;
        return absl::OkStatus();
      }));
  return response;
}

absl::StatusOr<v1::ReleaseResponse> Ledger::Release(const v1::ReleaseRequest& req,
                                                    const std::string& actor) {
  RETURN_IF_ERROR(text::CheckIdempotencyKey(req.idempotency_key()));
  RETURN_IF_ERROR(CheckId(req.order_id(), "order_id"));
  RETURN_IF_ERROR(CheckReason(req.reason(), false));
  return ReleaseHold("Release", req, actor, /*by_timeout=*/false);
}

std::string Ledger::LockOrderForHold(const std::string& order_id) {
  // A hold's rider never changes, so this read outside the transaction is safe; ordering units by
  // rider makes batches lock accounts in one order and so rarely deadlock.
  absl::StatusOr<std::optional<v1::Hold>> hold = store_->GetHold(order_id);
  return hold.ok() && hold->has_value() ? (*hold)->person_id() : order_id;
}

absl::StatusOr<v1::ReleaseResponse> Ledger::ReleaseHold(const std::string& method,
                                                        const v1::ReleaseRequest& req,
                                                        const std::string& actor, bool by_timeout) {
  v1::ReleaseResponse response;
  RETURN_IF_ERROR(Mutate(
      actor, method, req.idempotency_key(), req, LockOrderForHold(req.order_id()), &response,
      [&](pqxx::dbtransaction& tx, gp::Message* out, int64_t*) {
        auto* resp = static_cast<v1::ReleaseResponse*>(out);
        ASSIGN_OR_RETURN(std::optional<v1::Hold> hold, store_->LockHold(tx, req.order_id()));
        if (!hold.has_value()) {
          return absl::NotFoundError(absl::StrCat("order ", req.order_id(), " has no hold"));
        }
        if (hold->state() == v1::HOLD_STATE_CAPTURED) {
          return Refuse(absl::StatusCode::kFailedPrecondition,
                        v1::LEDGER_ERROR_REASON_HOLD_CAPTURED,
                        absl::StrCat("the hold of order ", req.order_id(), " was captured (entry ",
                                     hold->settle_entry_id(), "); it cannot be released"));
        }
        if (hold->state() == v1::HOLD_STATE_RELEASED) {
          // Already released (by the caller earlier, or by the timeout): the goal is met.
          *resp->mutable_hold() = *hold;
          ASSIGN_OR_RETURN(std::optional<v1::Entry> e,
                           store_->LoadEntry(tx, hold->settle_entry_id()));
          if (e.has_value()) *resp->mutable_entry() = *e;
          ASSIGN_OR_RETURN(std::optional<v1::Account> account,
                           store_->LoadAccountTx(tx, hold->person_id()));
          *resp->mutable_account() = *account;
          return absl::OkStatus();
        }
        Posting p{.person_id = hold->person_id(),
                  .kind = v1::ENTRY_KIND_RELEASE,
                  .amount = hold->amount(),
                  .available_delta = hold->amount(),
                  .held_delta = -hold->amount(),
                  .source_kind = v1::SOURCE_KIND_REDEMPTION,
                  .source_id = req.order_id(),
                  .org_path = hold->org_path(),
                  .reason = req.reason(),
                  .actor_id = actor,
                  .order_id = req.order_id()};
        ASSIGN_OR_RETURN(v1::Entry entry, store_->Post(tx, p));
        RETURN_IF_ERROR(
            store_->SettleHold(tx, req.order_id(), v1::HOLD_STATE_RELEASED, entry, by_timeout));
        hold->set_state(v1::HOLD_STATE_RELEASED);
        hold->set_expired(by_timeout);
        hold->set_settle_entry_id(entry.entry_id());
        *hold->mutable_settle_time() = entry.create_time();
        *resp->mutable_hold() = *hold;
        *resp->mutable_entry() = entry;
        ASSIGN_OR_RETURN(std::optional<v1::Account> account,
                         store_->LoadAccountTx(tx, hold->person_id()));
        *resp->mutable_account() = *account;
        return absl::OkStatus();
      }));
  return response;
}

absl::StatusOr<int> Ledger::ReleaseDueHolds() {
  ASSIGN_OR_RETURN(std::vector<std::string> due, store_->DueHolds(100));
  int released = 0;
  for (const std::string& order : due) {
    v1::ReleaseRequest req;
    req.set_idempotency_key("ledger-timeout/" + order);
    req.set_order_id(order);
    req.set_reason("hold timed out");
    absl::StatusOr<v1::ReleaseResponse> r =
        ReleaseHold("ReleaseTimeout", req, "ledger:hold-timeout", /*by_timeout=*/true);
    if (r.ok()) {
      ++released;
    } else {
      log::Warn("hold timeout release failed",
                {{"order_id", order}, {"error", std::string(r.status().message())}});
    }
  }
  return released;
}

absl::StatusOr<v1::Hold> Ledger::GetHold(const std::string& order_id) {
  RETURN_IF_ERROR(CheckId(order_id, "order_id"));
  ASSIGN_OR_RETURN(std::optional<v1::Hold> hold, store_->GetHold(order_id));
  if (!hold.has_value())
    return absl::NotFoundError(absl::StrCat("order ", order_id, " has no hold"));
  return *hold;
}

}  // namespace civicpoints::ledger
