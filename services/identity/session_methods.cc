// Registration, login, sessions and refresh tokens, WhoAmI; the first admin of a fresh city.
// Refresh tokens' rules are session_rules.h's; sessions' SQL is PgSessionStore's.
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/log/log.h"
#include "common/pg/sql_values.h"
#include "common/status/refusal.h"
#include "common/status/status_macros.h"
#include "services/identity/device_token.h"
#include "services/identity/identity_events.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"
#include "services/identity/key_ring.h"
#include "services/identity/records.h"
#include "services/identity/service_support.h"
#include "services/identity/session_rules.h"

namespace civicpoints::identity {
namespace {

constexpr absl::Duration kRegistrationWindow = absl::Hours(1);
constexpr size_t kMaxPlatformAccounts = 10;

const absl::Status kBadCredentials =
    absl::UnauthenticatedError("phone number or password is wrong");
const absl::Status kBadRefresh =
    absl::UnauthenticatedError("refresh token is not valid; sign in again");

// The purposes of the privacy policy; the first three are what the programme is.
struct Purpose {
  v1::ConsentPurpose purpose;
  const char* description;
  bool required;
};
constexpr Purpose kPurposes[] = {
    {v1::CONSENT_PURPOSE_ACCOUNT, "账号注册与登录：手机号（仅保存加密摘要与掩码）、密码摘要、昵称",
     true},
    {v1::CONSENT_PURPOSE_COMMUNITY_SERVICE,
     "社区报到与服务：报到社区、参与的治理岗位、活动与服务记录", true},
    {v1::CONSENT_PURPOSE_POINTS_AND_RANKINGS, "积分与排行：积分账户、排行榜上显示昵称", true},
    {v1::CONSENT_PURPOSE_AGGREGATE_STATISTICS,
     "统计分析：按社区、街道、区汇总的人数统计（不含个人信息）", false},
};

absl::Status CheckPlatformAccounts(
    const google::protobuf::RepeatedPtrField<v1::PlatformAccount>& accounts) {
  if (accounts.size() > static_cast<int>(kMaxPlatformAccounts)) {
    return absl::InvalidArgumentError("platform_accounts: more than 10 accounts");
  }
  std::set<std::tuple<int, std::string, std::string>> seen;
  for (int i = 0; i < accounts.size(); ++i) {
    const v1::PlatformAccount& a = accounts[i];
    const std::string field = absl::StrCat("platform_accounts[", i, "]");
    if (absl::Status s = CheckPlatformAccount(a, field); !s.ok()) return s;
    const std::string& id = a.platform_rider_id();
    if (!seen.emplace(a.platform(), a.platform_name(), id).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": is listed twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// Links `accounts` to a rider (replacing any they had). Errors: ALREADY_EXISTS when another
// person holds one.
absl::Status LinkPlatformAccounts(
    pqxx::transaction_base& tx, const std::string& person_id,
    const google::protobuf::RepeatedPtrField<v1::PlatformAccount>& accounts) {
  tx.exec_params("DELETE FROM platform_accounts WHERE person_id = $1", person_id);
  for (int i = 0; i < accounts.size(); ++i) {
    const v1::PlatformAccount& a = accounts[i];
    pqxx::result owner = tx.exec_params(
        "SELECT person_id FROM platform_accounts WHERE platform = $1 AND platform_name = $2 "
        "AND platform_rider_id = $3",
        static_cast<int>(a.platform()), a.platform_name(), a.platform_rider_id());
    if (!owner.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("platform_accounts[", i, "]: ", v1::DeliveryPlatform_Name(a.platform()),
                       " rider id '", a.platform_rider_id(), "' is linked to another rider"));
    }
    tx.exec_params(
        "INSERT INTO platform_accounts (person_id, platform, platform_name, platform_rider_id) "
        "VALUES ($1, $2, $3, $4)",
        person_id, static_cast<int>(a.platform()), a.platform_name(), a.platform_rider_id());
  }
  return absl::OkStatus();
}

absl::Status CheckRiderPlatformAccounts(
    const google::protobuf::RepeatedPtrField<v1::PlatformAccount>& accounts) {
  return CheckPlatformAccounts(accounts);
}

absl::StatusOr<std::string> IdentityServiceImpl::PersonAccessToken(pqxx::transaction_base& tx,
                                                                   const std::string& person_id,
                                                                   const std::string& session_id,
                                                                   absl::Time now) {
  absl::StatusOr<PersonRow> person = LoadPerson(tx, person_id);
  if (!person.ok()) return person.status();
  // Every path to a token passes here: a suspended or closed person gets none.
  if (person->status != v1::PERSON_STATUS_ACTIVE) return kBadCredentials;
  auth::Principal p;
  p.subject = person_id;
  p.token_id = NewId("t");
  p.roles = LoadTokenGrants(tx, person_id);
  p.issued_at = now;
  p.expires_at = now + options_.access_token_ttl;
  p.session_id = session_id;
  p.kind = "human";
  p.display_name = person->display_name;
  p.password_change_required = person->password_change_required;
  return keys_->Sign(p, now);
}

absl::StatusOr<v1::TokenPair> IdentityServiceImpl::OpenSession(pqxx::transaction_base& tx,
                                                               const std::string& person_id,
                                                               const std::string& device_name,
                                                               absl::Time now) {
  const std::string session_id = NewId("ses");
  const std::string refresh = absl::StrCat("cpr_", Base64Url(RandomBytes(32)));
  const absl::Time refresh_expiry = now + options_.refresh_token_ttl;
  sessions_.Open(tx, session_id, person_id, device_name, Sha256(refresh), now, refresh_expiry);
  MaybeSweep(tx, now);
  absl::StatusOr<std::string> access = PersonAccessToken(tx, person_id, session_id, now);
  if (!access.ok()) return access.status();
  v1::TokenPair pair;
  pair.set_access_token(*access);
  SetTime(pair.mutable_access_token_expire_time(), Us(now + options_.access_token_ttl));
  pair.set_refresh_token(refresh);
  SetTime(pair.mutable_refresh_token_expire_time(), Us(refresh_expiry));
  pair.set_token_type("Bearer");
  return pair;
}

void IdentityServiceImpl::MaybeSweep(pqxx::transaction_base& tx, absl::Time now) {
  // Every 256th session opened also clears a bounded slice of what has expired, so the tables
  // stay the size of what is live without a background job.
  if (sweep_counter_.fetch_add(1) % 256 != 0) return;
  sessions_.Sweep(tx, now);
}

int IdentityServiceImpl::RevokeSessions(pqxx::transaction_base& tx, const std::string& person_id,
                                        const std::string& reason, absl::Time now) {
  return sessions_.EndAll(tx, person_id, reason, now);
}

grpc::Status IdentityServiceImpl::GetPrivacyPolicy(grpc::ServerContext* ctx,
                                                   const v1::GetPrivacyPolicyRequest*,
                                                   v1::GetPrivacyPolicyResponse* resp) {
  return Handle(ctx, "GetPrivacyPolicy", [&](const Caller&) -> absl::Status {
    resp->set_policy_version(options_.policy_version);
    resp->set_policy_url(options_.policy_url);
    for (const Purpose& p : kPurposes) {
      v1::PolicyPurpose* out = resp->add_purposes();
      out->set_purpose(p.purpose);
      out->set_description(p.description);
      out->set_required(p.required);
    }
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::RegisterRider(grpc::ServerContext* ctx,
                                                const v1::RegisterRiderRequest* req,
                                                v1::RegisterRiderResponse* resp) {
  return Handle(ctx, "RegisterRider", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    absl::StatusOr<std::string> phone = NormalizePhone(req->phone(), "phone");
    if (!phone.ok()) return phone.status();
    if (absl::Status s = CheckPassword(req->password(), *phone, "password"); !s.ok()) return s;
    if (absl::Status s =
            text::CheckText(req->display_name(), "display_name", {.max = 32, .required = true});
        !s.ok())
      return s;
    if (absl::Status s = CheckPlatformAccounts(req->platform_accounts()); !s.ok()) return s;
    if (!req->has_consent()) return absl::InvalidArgumentError("consent: is required");
    if (req->consent().policy_version() != options_.policy_version) {
      return absl::InvalidArgumentError(
          absl::StrCat("consent.policy_version: '", req->consent().policy_version(),
                       "' is not the current policy '", options_.policy_version, "'"));
    }
    bool statistics = false;
    for (const Purpose& p : kPurposes) {
      const bool given =
          std::find(req->consent().purposes().begin(), req->consent().purposes().end(),
                    p.purpose) != req->consent().purposes().end();
      if (p.required && !given) {
        return absl::InvalidArgumentError(absl::StrCat("consent.purposes: lacks the required ",
                                                       v1::ConsentPurpose_Name(p.purpose)));
      }
      if (p.purpose == v1::CONSENT_PURPOSE_AGGREGATE_STATISTICS) statistics = given;
    }
    for (int p : req->consent().purposes()) {
      if (p == v1::CONSENT_PURPOSE_UNSPECIFIED || !v1::ConsentPurpose_IsValid(p)) {
        return absl::InvalidArgumentError("consent.purposes: holds an unknown purpose");
      }
    }
    std::string code;
    if (!req->check_in_code().empty()) {
      absl::StatusOr<std::string> c = NormalizeCheckInCode(req->check_in_code(), "check_in_code");
      if (!c.ok()) return c.status();
      code = *c;
    }
    if (absl::Status s = text::CheckText(req->device_name(), "device_name", {.max = 64}); !s.ok())
      return s;
    const std::string addr_bucket = "register:addr:" + caller.client_address;
    if (absl::Status s = TakeThrottle(addr_bucket, options_.registrations_per_address,
                                      kRegistrationWindow, caller.now);
        !s.ok()) {
      return s;
    }

    // The password never enters the stored request hash; a repeat proves it again instead.
    v1::RegisterRiderRequest hashed = *req;
    hashed.clear_password();
    const std::string phone_hash = secrets_->PhoneHash(*phone);
    absl::StatusOr<std::string> password_hash = HashPassword(req->password());
    if (!password_hash.ok()) return password_hash.status();
    // The id this call created; a stored answer with another id is a repeat (or a concurrent
    // first call that won), whose caller must prove the password.
    std::string created_id;
    v1::RegisterRiderResponse stored;
    absl::Status done = Idempotent(
        "RegisterRider", req->idempotency_key(), hashed, &stored,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          pqxx::result existing = tx.exec_params(
              absl::StrCat("SELECT ", kPersonColumns, " FROM people WHERE phone_hash = $1"),
              pqxx::binarystring(phone_hash));
          if (!existing.empty()) {
            // Not "already registered", which would tell anyone which phones are: the answer is
            // the account's, given only to a caller who proves its password below.
            FillPerson(tx, existing[0], true, stored.mutable_person());
            return absl::OkStatus();
          }
          std::string community;
          if (!code.empty()) {
            absl::StatusOr<std::string> c = CommunityForCode(tx, code, caller.now);
            if (!c.ok()) return c.status();
            community = *c;
          }
          const std::string id = NewId("p");
          tx.exec_params(
              "INSERT INTO people (person_id, display_name, phone_hash, phone_masked, "
              "password_hash, is_rider, counted_in_stats, origin_community_id, registered_at, "
              "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, true, $6, NULLIF($7, ''), "
              "from_us($8), from_us($8), from_us($8))",
              id, req->display_name(), pqxx::binarystring(phone_hash), MaskPhone(*phone),
              *password_hash, statistics, community, Us(caller.now));
          if (absl::Status s = LinkPlatformAccounts(tx, id, req->platform_accounts()); !s.ok())
            return s;
          std::vector<std::string> purposes;
          for (int p : req->consent().purposes()) purposes.push_back(std::to_string(p));
          tx.exec_params(
              "INSERT INTO consents (person_id, policy_version, purposes, consented_at) "
              "VALUES ($1, $2, $3::smallint[], from_us($4))",
              id, options_.policy_version, pg::TextArray(purposes), Us(caller.now));
          tx.exec_params(
              "INSERT INTO role_grants (grant_id, person_id, role, org_id, granted_by) "
              "VALUES ($1, $2, role('RIDER'), 'root', 'registration')",
              NewId("g"), id);
          common::v1::OrgPath home;  // the community of the code, where the rider joined
          if (!community.empty()) {
            const pqxx::result c = tx.exec_params(
                absl::StrCat("SELECT ", kOrgColumns, " FROM org_nodes WHERE org_id = $1"),
                community);
            if (!c.empty()) home = PathOf(ReadOrg(c[0]));
          }
          RETURN_IF_ERROR(RecordRiderRegistered(tx, id, req->platform_accounts(), home));
          if (!community.empty()) {
            if (absl::Status s = CheckInNow(tx, id, community, v1::CHECK_IN_METHOD_CODE, "", "",
                                            caller.now, stored.mutable_check_in(), nullptr);
                !s.ok()) {
              return s;
            }
          }
          pqxx::result row = tx.exec_params(
              absl::StrCat("SELECT ", kPersonColumns, " FROM people WHERE person_id = $1"), id);
          FillPerson(tx, row[0], true, stored.mutable_person());
          created_id = id;
          return absl::OkStatus();
        });
    if (!done.ok()) return done;
    if (stored.person().person_id() != created_id) {
      // A repeat, or a phone registered before: the caller must hold the account's password, and
      // the guess counts against the login limits as a Login would.
      absl::StatusOr<PersonRow> person = CheckLogin(phone_hash, req->password(), {}, caller);
      if (!person.ok()) return person.status();
      if (person->person_id != stored.person().person_id()) return kBadCredentials;
    }
    return InTx("open first session", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::TokenPair> tokens =
          OpenSession(tx, stored.person().person_id(), req->device_name(), caller.now);
      if (!tokens.ok()) return tokens.status();
      *resp = stored;
      *resp->mutable_tokens() = *std::move(tokens);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::Login(grpc::ServerContext* ctx, const v1::LoginRequest* req,
                                        v1::LoginResponse* resp) {
  return Handle(ctx, "Login", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<std::string> phone = NormalizePhone(req->phone(), "phone");
    if (!phone.ok()) return phone.status();
    if (req->password().empty()) return absl::InvalidArgumentError("password: is required");
    if (req->password().size() > 256 ||
        text::Utf8Length(req->password()).value_or(req->password().size()) > 64) {
      return absl::InvalidArgumentError("password: is longer than 64 characters");
    }
    if (absl::Status s = text::CheckText(req->device_name(), "device_name", {.max = 64}); !s.ok())
      return s;
    const std::string phone_hash = secrets_->PhoneHash(*phone);
    std::optional<std::string> device_id;
    if (!req->device_token().empty()) {
      absl::StatusOr<std::optional<std::string>> device =
          CheckDeviceToken(*secrets_, req->device_token(), phone_hash, caller.now);
      if (!device.ok()) return device.status();
      device_id = *device;
    }
    absl::StatusOr<PersonRow> person = CheckLogin(phone_hash, req->password(), device_id, caller);
    if (!person.ok()) return person.status();
    return InTx("open session", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::TokenPair> tokens =
          OpenSession(tx, person->person_id, req->device_name(), caller.now);
      if (!tokens.ok()) return tokens.status();
      resp->set_person_id(person->person_id);
      *resp->mutable_tokens() = *std::move(tokens);
      resp->set_password_change_required(person->password_change_required);
      resp->set_device_token(
          IssueDeviceToken(*secrets_, phone_hash, caller.now + options_.login.device_token_ttl));
      return absl::OkStatus();
    });
  });
}

absl::StatusOr<PersonRow> IdentityServiceImpl::CheckLogin(
    const std::string& phone_hash, const std::string& password,
    const std::optional<std::string>& device_id, const Caller& caller) {
  absl::StatusOr<pg::Throttle::Ticket> attempt = TakeLoginAttempt(phone_hash, device_id, caller);
  if (!attempt.ok()) return attempt.status();
  std::optional<PersonRow> person;
  absl::Status read = InReadTx("find login", [&](pqxx::transaction_base& tx) {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", kPersonColumns, " FROM people WHERE phone_hash = $1"),
        pqxx::binarystring(phone_hash));
    if (!r.empty()) person = ReadPerson(r[0]);
    return absl::OkStatus();
  });
  // Not the caller's failure: the attempt does not count.
  auto refund = [&](absl::Status s) {
    throttle_.Refund(*attempt);
    return s;
  };
  if (!read.ok()) return refund(read);
  // An unknown phone costs the same hash as a known one, so timing does not tell them apart.
  // So does an account without a password (its first sign-in is by SMS code).
  const bool has_password = person.has_value() && !person->password_hash.empty();
  absl::StatusOr<bool> verified =
      VerifyPassword(has_password ? person->password_hash : dummy_hash_, password);
  if (!verified.ok()) return refund(verified.status());
  if (!*verified || !has_password || person->status != v1::PERSON_STATUS_ACTIVE) {
    return kBadCredentials;
  }
  // Only failures count against the phone, the address and the device.
  throttle_.Refund(*attempt);
  return *std::move(person);
}

grpc::Status IdentityServiceImpl::RefreshToken(grpc::ServerContext* ctx,
                                               const v1::RefreshTokenRequest* req,
                                               v1::RefreshTokenResponse* resp) {
  return Handle(ctx, "RefreshToken", [&](const Caller& caller) -> absl::Status {
    if (req->refresh_token().empty())
      return absl::InvalidArgumentError("refresh_token: is required");
    if (req->refresh_token().size() > 256) {
      return absl::InvalidArgumentError("refresh_token: is longer than 256 characters");
    }
    absl::Status theft;  // set when a reused token revoked its session (committed, then returned)
    absl::Status done = InTx("refresh token", [&](pqxx::transaction_base& tx) -> absl::Status {
      const std::string hash = Sha256(req->refresh_token());
      const std::optional<PgSessionStore::Refresh> token = sessions_.FindRefresh(tx, hash);
      const std::string successor = secrets_->RefreshSuccessor(req->refresh_token());
      const absl::Time expiry = caller.now + options_.refresh_token_ttl;
      switch (DecideRefresh(token ? std::optional(token->facts) : std::nullopt, caller.now)) {
        case RefreshStep::kRefuse:
          return kBadRefresh;
        case RefreshStep::kTheft:
          // A token already traded in, presented again: someone else holds a copy.
          sessions_.End(tx, token->session_id, "refresh token reuse", caller.now);
          tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3)",
                         token->person_id, "refresh_token_reuse", token->session_id);
          theft = absl::UnauthenticatedError(
              "refresh token was already used; the session is revoked, sign in again");
          return absl::OkStatus();
        case RefreshStep::kRotate:
          sessions_.Rotate(tx, *token, hash, Sha256(successor), caller.now, expiry);
          break;
        case RefreshStep::kRepeat:
          break;  // the successor is derived from the token: the same one again
      }
      const std::string& session_id = token->session_id;
      const std::string& person_id = token->person_id;
      absl::StatusOr<std::string> access = PersonAccessToken(tx, person_id, session_id, caller.now);
      if (!access.ok()) return access.status();
      v1::TokenPair* pair = resp->mutable_tokens();
      pair->set_access_token(*access);
      SetTime(pair->mutable_access_token_expire_time(), Us(caller.now + options_.access_token_ttl));
      pair->set_refresh_token(successor);
      SetTime(pair->mutable_refresh_token_expire_time(), Us(expiry));
      pair->set_token_type("Bearer");
      return absl::OkStatus();
    });
    if (!done.ok()) return done;
    if (!theft.ok()) {
      resp->Clear();
      return theft;
    }
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::Logout(grpc::ServerContext* ctx, const v1::LogoutRequest* req,
                                         v1::LogoutResponse*) {
  return Handle(ctx, "Logout", [&](const Caller& caller) -> absl::Status {
    if (req->refresh_token().empty())
      return absl::InvalidArgumentError("refresh_token: is required");
    if (req->refresh_token().size() > 256) {
      return absl::InvalidArgumentError("refresh_token: is longer than 256 characters");
    }
    return InTx("logout", [&](pqxx::transaction_base& tx) -> absl::Status {
      const std::string session = sessions_.SessionOf(tx, Sha256(req->refresh_token()));
      if (session.empty()) return absl::UnauthenticatedError("refresh token was never issued");
      sessions_.End(tx, session, "logout", caller.now);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::LogoutEverywhere(grpc::ServerContext* ctx,
                                                   const v1::LogoutEverywhereRequest*,
                                                   v1::LogoutEverywhereResponse* resp) {
  return Handle(ctx, "LogoutEverywhere", [&](const Caller& caller) -> absl::Status {
    if (caller.who().kind == "service_account") {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::IDENTITY_ERROR_REASON_NOT_A_PERSON,
                    "a service account has no sessions; revoke its API keys instead");
    }
    return InTx("logout everywhere", [&](pqxx::transaction_base& tx) -> absl::Status {
      resp->set_revoked_sessions(
          RevokeSessions(tx, caller.who().subject, "logout everywhere", caller.now));
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ChangePassword(grpc::ServerContext* ctx,
                                                 const v1::ChangePasswordRequest* req,
                                                 v1::ChangePasswordResponse* resp) {
  return Handle(ctx, "ChangePassword", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    if (req->current_password().empty()) {
      return absl::InvalidArgumentError("current_password: is required");
    }
    if (req->current_password().size() > 256) {
      return absl::InvalidArgumentError("current_password: is longer than 256 bytes");
    }
    if (absl::Status s = CheckPassword(req->new_password(), "", "new_password"); !s.ok()) return s;
    if (req->new_password() == req->current_password()) {
      return absl::InvalidArgumentError("new_password: must differ from the current password");
    }
    if (absl::Status s = text::CheckText(req->device_name(), "device_name", {.max = 64}); !s.ok())
      return s;
    const std::string& me = caller.who().subject;
    const std::string bucket = "password:" + me;
    if (absl::Status s = TakeThrottle(bucket, 5, absl::Minutes(15), caller.now); !s.ok()) return s;
    const std::string method = absl::StrCat("ChangePassword:", me);
    std::string stored_hash;
    bool key_used = false;
    absl::Status read = InReadTx("load password", [&](pqxx::transaction_base& tx) {
      absl::StatusOr<PersonRow> p = LoadPerson(tx, me);
      if (!p.ok()) return p.status();
      if (p->status != v1::PERSON_STATUS_ACTIVE) {
        return absl::UnauthenticatedError("the account is not active");
      }
      stored_hash = p->password_hash;
      key_used = !tx.exec_params("SELECT 1 FROM idempotency_keys WHERE method = $1 AND key = $2",
                                 method, req->idempotency_key())
                      .empty();
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
    absl::StatusOr<bool> current_ok = VerifyPassword(stored_hash, req->current_password());
    if (!current_ok.ok()) {
      RefundThrottle(bucket);  // not judged: no guess was made
      return current_ok.status();
    }
    // A repeat of a change that went through: its new password is the current one now. Only a key
    // already used can take this path, so it is no second guess per attempt.
    bool repeat = false;
    if (!*current_ok && key_used) {
      absl::StatusOr<bool> is_new = VerifyPassword(stored_hash, req->new_password());
      if (!is_new.ok()) {
        RefundThrottle(bucket);
        return is_new.status();
      }
      repeat = *is_new;
    }
    if (!*current_ok && !repeat) return absl::UnauthenticatedError("current_password: is wrong");
    if (*current_ok && key_used) {
      // The current password still works, so the change under this key was to another password.
      return Refuse(absl::StatusCode::kFailedPrecondition,
                    v1::IDENTITY_ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
                    "idempotency_key: was already used with a different request");
    }
    RefundThrottle(bucket);
    v1::ChangePasswordRequest hashed = *req;
    hashed.clear_current_password();
    hashed.clear_new_password();
    absl::StatusOr<std::string> new_hash = HashPassword(req->new_password());
    if (!new_hash.ok()) return new_hash.status();
    v1::ChangePasswordResponse stored;  // nothing is stored but the fact of the change
    absl::Status done = Idempotent(
        method, req->idempotency_key(), hashed, &stored,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          if (!*current_ok) return absl::UnauthenticatedError("current_password: is wrong");
          tx.exec_params(
              "UPDATE people SET password_hash = $2, password_change_required = false, "
              "updated_at = now() WHERE person_id = $1",
              me, *new_hash);
          RevokeSessions(tx, me, "password changed", caller.now);
          tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $1)", me,
                         "change_password");
          return absl::OkStatus();
        });
    if (!done.ok()) return done;
    return InTx("open session", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::TokenPair> tokens = OpenSession(tx, me, req->device_name(), caller.now);
      if (!tokens.ok()) return tokens.status();
      *resp->mutable_tokens() = *std::move(tokens);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest*,
                                         v1::WhoAmIResponse* resp) {
  return Handle(ctx, "WhoAmI", [&](const Caller& caller) -> absl::Status {
    const auth::Principal& who = caller.who();
    for (const std::string& s : who.scopes) resp->add_scopes(s);
    resp->set_session_id(who.session_id);
    SetTime(resp->mutable_token_expire_time(), Us(who.expires_at));
    return InReadTx("who am i", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result sa =
          tx.exec_params(absl::StrCat("SELECT ", kServiceAccountColumns,
                                      " FROM service_accounts WHERE service_account_id = $1"),
                         who.subject);
      if (!sa.empty()) {
        v1::ServiceAccount account;
        FillServiceAccount(sa[0], &account);
        resp->mutable_person()->set_person_id(account.service_account_id());
        resp->mutable_person()->set_kind(v1::PERSON_KIND_SERVICE_ACCOUNT);
        resp->mutable_person()->set_display_name(account.display_name());
        resp->mutable_person()->set_status(account.status() == v1::SERVICE_ACCOUNT_STATUS_ACTIVE
                                               ? v1::PERSON_STATUS_ACTIVE
                                               : v1::PERSON_STATUS_CLOSED);
        v1::RoleGrant* g = resp->add_role_grants();
        g->set_person_id(account.service_account_id());
        g->set_role(account.role());
        g->set_org_id(account.org_id());
        g->set_status(v1::ROLE_GRANT_STATUS_ACTIVE);
        return absl::OkStatus();
      }
      pqxx::result row =
          tx.exec_params(absl::StrCat("SELECT ", kPersonColumns,
                                      " FROM people WHERE person_id = $1 AND status <> "
                                      "person_status('CLOSED')"),
                         who.subject);
      if (row.empty()) return absl::NotFoundError("the token's subject no longer exists");
      FillPerson(tx, row[0], true, resp->mutable_person());
      for (const auto& g :
           tx.exec_params(absl::StrCat("SELECT ", kGrantColumns, " FROM ", kGrantFrom,
                                       " WHERE g.person_id = $1 AND "
                                       "g.revoked_at IS NULL ORDER BY g.granted_at"),
                          who.subject)) {
        FillGrant(g, resp->add_role_grants());
      }
      return absl::OkStatus();
    });
  });
}

absl::Status IdentityServiceImpl::BootstrapAdmin(const std::string& phone,
                                                 const std::string& password,
                                                 const std::string& display_name) {
  absl::StatusOr<std::string> digits = NormalizePhone(phone, "bootstrap_admin_phone");
  if (!digits.ok()) return digits.status();
  if (absl::Status s = CheckPassword(password, *digits, "bootstrap_admin_password"); !s.ok())
    return s;
  absl::StatusOr<std::string> hashed = HashPassword(password);
  if (!hashed.ok()) return hashed.status();
  const std::string& hash = *hashed;
  return InTx("bootstrap admin", [&](pqxx::transaction_base& tx) -> absl::Status {
    tx.exec("LOCK TABLE role_grants IN SHARE ROW EXCLUSIVE MODE");
    if (!tx.exec(
               "SELECT 1 FROM role_grants WHERE role = role('DISTRICT_ADMIN') AND org_id = 'root' "
               "AND revoked_at IS NULL")
             .empty()) {
      return absl::OkStatus();  // the city already has its admin
    }
    const std::string phone_hash = secrets_->PhoneHash(*digits);
    pqxx::result existing = tx.exec_params("SELECT person_id FROM people WHERE phone_hash = $1",
                                           pqxx::binarystring(phone_hash));
    std::string id;
    if (existing.empty()) {
      id = NewId("p");
      tx.exec_params(
          "INSERT INTO people (person_id, display_name, phone_hash, phone_masked, password_hash, "
          "password_change_required) VALUES ($1, $2, $3, $4, $5, true)",
          id, display_name, pqxx::binarystring(phone_hash), MaskPhone(*digits), hash);
    } else {
      id = existing[0][0].as<std::string>();
    }
    tx.exec_params(
        "INSERT INTO role_grants (grant_id, person_id, role, org_id, granted_by) "
        "VALUES ($1, $2, role('DISTRICT_ADMIN'), 'root', 'bootstrap')",
        NewId("g"), id);
    log::Info("created the first district admin at the city root", {{"person_id", id}});
    return absl::OkStatus();
  });
}

absl::Status IdentityServiceImpl::SetCityName() {
  if (absl::Status s =
          text::CheckText(options_.city_name, "city_name", {.max = 64, .required = true});
      !s.ok())
    return s;
  return InTx("set city name", [&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "UPDATE org_nodes SET name = $1, version = version + 1, updated_at = now() "
        "WHERE org_id = 'root' AND name <> $1",
        options_.city_name);
    return absl::OkStatus();
  });
}

}  // namespace civicpoints::identity
