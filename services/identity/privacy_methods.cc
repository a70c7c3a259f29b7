// A rider's own privacy choices: withdrawing (or giving again) consent to aggregate statistics
// (UpdateMyConsent), and closing the account (CloseMyAccount), which ends the rider's orders at
// rewards before anything is erased. The ranking name is the profile's (UpdateMyRiderProfile) and
// the data export is GetMyPersonalData.
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/pg/sql_values.h"
#include "common/status/refusal.h"
#include "services/identity/identity_service.h"
#include "services/identity/records.h"
#include "services/identity/rider_orders.h"

namespace civicpoints::identity {
namespace {

constexpr int kWrongPasswords = 5;

// The purposes an account cannot be kept without.
constexpr v1::ConsentPurpose kRequired[] = {v1::CONSENT_PURPOSE_ACCOUNT,
                                            v1::CONSENT_PURPOSE_COMMUNITY_SERVICE,
                                            v1::CONSENT_PURPOSE_POINTS_AND_RANKINGS};

}  // namespace

grpc::Status IdentityServiceImpl::UpdateMyConsent(grpc::ServerContext* ctx,
                                                  const v1::UpdateMyConsentRequest* req,
                                                  v1::UpdateMyConsentResponse* resp) {
  return Handle(ctx, "UpdateMyConsent", [&](const Caller& caller) -> absl::Status {
    std::set<int> purposes;
    for (int p : req->purposes()) {
      if (p == v1::CONSENT_PURPOSE_UNSPECIFIED || !v1::ConsentPurpose_IsValid(p)) {
        return absl::InvalidArgumentError(
            absl::StrCat("purposes: ", p, " is not a ConsentPurpose"));
      }
      if (!purposes.insert(p).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("purposes: ", v1::ConsentPurpose_Name(static_cast<v1::ConsentPurpose>(p)),
                         " is given twice"));
      }
    }
    for (v1::ConsentPurpose p : kRequired) {
      if (!purposes.contains(p)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "purposes: ", v1::ConsentPurpose_Name(p),
            " is what the account is for; to withdraw it, close the account (CloseMyAccount)"));
      }
    }
    const bool statistics = purposes.contains(v1::CONSENT_PURPOSE_AGGREGATE_STATISTICS);
    const std::string& me = caller.who().subject;
    return InTx("update my consent", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<PersonRow> person = LoadPerson(tx, me, /*lock=*/true);
      if (!person.ok()) return person.status();
      std::vector<int> list(purposes.begin(), purposes.end());
      tx.exec_params(
          "INSERT INTO consents (person_id, policy_version, purposes, consented_at) "
          "VALUES ($1, $2, $3::smallint[], from_us($4))",
          me, options_.policy_version, pg::IntArray(list), Us(caller.now));
      tx.exec_params(
          "UPDATE people SET counted_in_stats = $2, updated_at = now() WHERE person_id = $1", me,
          statistics);
      tx.exec_params(
          "INSERT INTO audit_events (actor, action, target, detail) "
          "VALUES ($1, 'update_consent', $1, $2)",
          me, statistics ? "statistics given" : "statistics withdrawn");
      v1::ConsentRecord* rec = resp->mutable_consent();
      rec->set_policy_version(options_.policy_version);
      for (int p : list) rec->add_purposes(static_cast<v1::ConsentPurpose>(p));
      SetTime(rec->mutable_consent_time(), Us(caller.now));
      resp->set_counted_in_statistics(statistics);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::CloseMyAccount(grpc::ServerContext* ctx,
                                                 const v1::CloseMyAccountRequest* req,
                                                 v1::CloseMyAccountResponse* resp) {
  return Handle(ctx, "CloseMyAccount", [&](const Caller& caller) -> absl::Status {
    if (req->password().empty()) return absl::InvalidArgumentError("password: is required");
    if (req->password().size() > 256) {
      return absl::InvalidArgumentError("password: is longer than 256 bytes");
    }
    if (absl::Status s = text::CheckText(req->reason(), "reason", {.max = 200}); !s.ok()) return s;
    if (options_.rider_orders == nullptr) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::IDENTITY_ERROR_REASON_NOT_CONFIGURED,
                    "closing an account needs rewards, and identity has no address for it "
                    "(rewards_addr)");
    }
    const std::string& me = caller.who().subject;
    const std::string bucket = "password:" + me;
    if (absl::Status s = TakeThrottle(bucket, kWrongPasswords, absl::Minutes(15), caller.now);
        !s.ok()) {
      return s;
    }
    std::string stored_hash;
    absl::Status read = InReadTx("load password", [&](pqxx::transaction_base& tx) {
      absl::StatusOr<PersonRow> p = LoadPerson(tx, me);
      if (!p.ok()) return p.status();
      if (p->status != v1::PERSON_STATUS_ACTIVE) {
        return absl::UnauthenticatedError("the account is not active");
      }
      stored_hash = p->password_hash;
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
    // An account without a password (first sign-in by SMS) is checked against the dummy hash,
    // so it answers as a wrong password after the same time: reset the password first.
    absl::StatusOr<bool> right =
        VerifyPassword(stored_hash.empty() ? dummy_hash_ : stored_hash, req->password());
    if (!right.ok()) {
      RefundThrottle(bucket);  // no guess was judged
      return right.status();
    }
    if (!*right || stored_hash.empty()) {
      return absl::UnauthenticatedError("password: is wrong");
    }
    RefundThrottle(bucket);
    // The orders end first: if rewards cannot, nothing is closed and the rider may retry.
    absl::StatusOr<int> cancelled = options_.rider_orders->CloseRiderOrders(me);
    if (!cancelled.ok()) return cancelled.status();
    return InTx("close my account", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<PersonRow> p = LoadPerson(tx, me, /*lock=*/true);
      if (!p.ok()) return p.status();
      if (p->status == v1::PERSON_STATUS_ACTIVE) {
        tx.exec_params(
            "UPDATE people SET status = person_status('CLOSED'), updated_at = now() "
            "WHERE person_id = $1",
            me);
        RevokeSessions(tx, me, "account closed by its owner", caller.now);
        EraseAccount(tx, me, me);
        tx.exec_params(
            "INSERT INTO audit_events (actor, action, target, detail) "
            "VALUES ($1, 'close_own_account', $1, $2)",
            me,
            absl::StrCat("orders cancelled: ", *cancelled, req->reason().empty() ? "" : "; ",
                         req->reason()));
      }
      resp->set_orders_cancelled(*cancelled);
      return FetchPerson(tx, me, true, resp->mutable_person());
    });
  });
}

}  // namespace civicpoints::identity
