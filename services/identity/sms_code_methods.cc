// One-time SMS codes: RequestSmsCode sends one, ResetPassword and LoginWithSmsCode spend one. A
// code is 6 digits, lasts 5 minutes, allows 5 tries and is used once. The answers never tell
// whether a number is registered: a request for any number is counted and answered the same
// (only an active account's number is sent a code), and a wrong, expired, used-up or never-sent
// code is one refusal, counted per number and per address.
#include <sodium.h>

#include <pqxx/pqxx>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/log/log.h"
#include "common/pg/transactions.h"
#include "common/status/refusal.h"
#include "services/identity/crypto.h"
#include "services/identity/device_token.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"
#include "services/identity/records.h"
#include "services/identity/sms_sender.h"

namespace civicpoints::identity {
namespace {

constexpr absl::Duration kCodeTtl = absl::Minutes(5);
constexpr int kTries = 5;

absl::Status CodeInvalid() {
  return Refuse(absl::StatusCode::kUnauthenticated, v1::IDENTITY_ERROR_REASON_SMS_CODE_INVALID,
                "code: is wrong or has expired; request a new one");
}

absl::Status CheckCodeShape(const std::string& code) {
  if (code.size() != 6 || !std::all_of(code.begin(), code.end(), absl::ascii_isdigit)) {
    return absl::InvalidArgumentError("code: must be the 6 digits of the SMS");
  }
  return absl::OkStatus();
}

}  // namespace

std::string IdentityServiceImpl::SmsCodeHash(const std::string& phone_hash,
                                             const std::string& code) const {
  return secrets_->RequestHash(absl::StrCat("sms-code:", phone_hash, ":", code));
}

absl::StatusOr<pg::Throttle::Ticket> IdentityServiceImpl::TakeSmsCodeAttempt(
    const std::string& phone_hash, const Caller& caller) {
  const SmsLimits& l = options_.sms;
  return throttle_.Take({{.bucket = "sms-try:phone:" + absl::BytesToHexString(phone_hash),
                          .limit = l.wrong_codes_per_phone,
                          .window = l.wrong_code_window},
                         {.bucket = "sms-try:addr:" + caller.client_address,
                          .limit = l.wrong_codes_per_address,
                          .window = l.wrong_code_window}},
                        caller.now);
}

absl::StatusOr<std::string> IdentityServiceImpl::TakeSmsTry(const std::string& phone_hash,
                                                            const std::string& code) {
  // The try is used up in a transaction of its own, committed before the code is compared, so a
  // wrong code costs a try whatever happens next, and no two guesses share one.
  bool live = false;
  std::string want;
  absl::Status taken = InTx("sms code try", [&](pqxx::transaction_base& tx) {
    const pqxx::result r = tx.exec_params(
        "UPDATE sms_codes SET tries_left = tries_left - 1 WHERE phone_hash = $1 AND "
        "tries_left > 0 AND expires_at > now() RETURNING code_hash",
        pqxx::binarystring(phone_hash));
    live = !r.empty();
    if (live) want = pqxx::binarystring(r[0][0]).str();
    return absl::OkStatus();
  });
  if (!taken.ok()) return taken;
  const std::string got = SmsCodeHash(phone_hash, code);
  if (!live || want.size() != got.size() ||
      sodium_memcmp(want.data(), got.data(), got.size()) != 0) {
    return CodeInvalid();
  }
  return got;
}

absl::StatusOr<std::string> IdentityServiceImpl::SpendSmsCode(pqxx::transaction_base& tx,
                                                              const std::string& phone_hash,
                                                              const std::string& code_hash) {
  // Gone or replaced since the try: another call spent it, or a new code was sent.
  if (tx.exec_params("DELETE FROM sms_codes WHERE phone_hash = $1 AND code_hash = $2 RETURNING 1",
                     pqxx::binarystring(phone_hash), pqxx::binarystring(code_hash))
          .empty()) {
    return CodeInvalid();
  }
  const pqxx::result person = tx.exec_params(
      absl::StrCat("SELECT ", kPersonColumns, " FROM people WHERE phone_hash = $1 FOR UPDATE"),
      pqxx::binarystring(phone_hash));
  // A code only goes to an active account; one closed or suspended since is refused the same way.
  if (person.empty() || ReadPerson(person[0]).status != v1::PERSON_STATUS_ACTIVE) {
    return CodeInvalid();
  }
  return ReadPerson(person[0]).person_id;
}

grpc::Status IdentityServiceImpl::RequestSmsCode(grpc::ServerContext* ctx,
                                                 const v1::RequestSmsCodeRequest* req,
                                                 v1::RequestSmsCodeResponse* resp) {
  return Handle(ctx, "RequestSmsCode", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<std::string> phone = NormalizePhone(req->phone(), "phone");
    if (!phone.ok()) return phone.status();
    if (options_.sms_sender == nullptr) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::IDENTITY_ERROR_REASON_NOT_CONFIGURED,
                    "no SMS sender is configured (identity_sms_sender); sign in with the password");
    }
    const std::string phone_hash = secrets_->PhoneHash(*phone);
    const SmsLimits& l = options_.sms;
    absl::StatusOr<pg::Throttle::Ticket> taken =
        throttle_.Take({{.bucket = "sms-send:phone:" + absl::BytesToHexString(phone_hash),
                         .limit = 1,
                         .window = l.resend_after},
                        {.bucket = "sms-send:phone-hour:" + absl::BytesToHexString(phone_hash),
                         .limit = l.codes_per_phone_per_hour,
                         .window = absl::Hours(1)},
                        {.bucket = "sms-send:addr:" + caller.client_address,
                         .limit = l.codes_per_address_per_hour,
                         .window = absl::Hours(1)}},
                       caller.now);
    if (!taken.ok()) return taken.status();
    const std::string code = NewSmsCode();
    bool send = false;
    absl::Status stored = InTx("sms code", [&](pqxx::transaction_base& tx) -> absl::Status {
      // Each request also clears a slice of expired codes.
      tx.exec(
          "DELETE FROM sms_codes WHERE phone_hash IN (SELECT phone_hash FROM sms_codes "
          "WHERE expires_at < now() LIMIT 100)");
      const pqxx::result person = tx.exec_params(
          "SELECT 1 FROM people WHERE phone_hash = $1 AND status = person_status('ACTIVE')",
          pqxx::binarystring(phone_hash));
      if (person.empty()) return absl::OkStatus();  // answered the same, nothing sent
      tx.exec_params(
          "INSERT INTO sms_codes (phone_hash, code_hash, tries_left, expires_at) "
          "VALUES ($1, $2, $3, now() + make_interval(secs => $4)) ON CONFLICT (phone_hash) DO "
          "UPDATE SET code_hash = EXCLUDED.code_hash, tries_left = EXCLUDED.tries_left, "
          "created_at = now(), expires_at = EXCLUDED.expires_at",
          pqxx::binarystring(phone_hash), pqxx::binarystring(SmsCodeHash(phone_hash, code)), kTries,
          absl::ToInt64Seconds(kCodeTtl));
      send = true;
      return absl::OkStatus();
    });
    if (!stored.ok()) {
      throttle_.Refund(*taken);
      return stored;
    }
    if (send) {
      // After the commit: a code that cannot be sent is one the rider asks for again; the answer
      // stays the same so that it tells nothing about the number.
      absl::Status sent =
          options_.sms_sender->Send({.phone = *phone,
                                     .purpose = "sign_in_or_reset",
                                     .code = code,
                                     .text = SmsText("sign_in_or_reset", code, kCodeTtl)});
      if (!sent.ok()) {
        log::Error("sms code not sent",
                   {{"phone", MaskPhone(*phone)}, {"error", std::string(sent.message())}});
      }
    }
    resp->set_expire_seconds(static_cast<int32_t>(absl::ToInt64Seconds(kCodeTtl)));
    resp->set_resend_after_seconds(static_cast<int32_t>(absl::ToInt64Seconds(l.resend_after)));
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ResetPassword(grpc::ServerContext* ctx,
                                                const v1::ResetPasswordRequest* req,
                                                v1::ResetPasswordResponse* resp) {
  return Handle(ctx, "ResetPassword", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    absl::StatusOr<std::string> phone = NormalizePhone(req->phone(), "phone");
    if (!phone.ok()) return phone.status();
    if (absl::Status s = CheckCodeShape(req->code()); !s.ok()) return s;
    if (absl::Status s = CheckPassword(req->new_password(), *phone, "new_password"); !s.ok())
      return s;
    if (absl::Status s = text::CheckText(req->device_name(), "device_name", {.max = 64}); !s.ok())
      return s;
    const std::string phone_hash = secrets_->PhoneHash(*phone);
    const std::string method =
        absl::StrCat("ResetPassword:", absl::BytesToHexString(phone_hash).substr(0, 32));
    absl::StatusOr<pg::Throttle::Ticket> attempt = TakeSmsCodeAttempt(phone_hash, caller);
    if (!attempt.ok()) return attempt.status();
    absl::StatusOr<std::string> new_hash = HashPassword(req->new_password());
    if (!new_hash.ok()) {
      throttle_.Refund(*attempt);  // no guess was made
      return new_hash.status();
    }
    v1::ResetPasswordRequest hashed = *req;
    hashed.clear_code();
    hashed.clear_new_password();
    // A key already used is a repeat (checked below), which spends no try of a code long gone.
    bool key_used = false;
    absl::Status read = InReadTx("reset key", [&](pqxx::transaction_base& tx) {
      key_used = !tx.exec_params("SELECT 1 FROM idempotency_keys WHERE method = $1 AND key = $2",
                                 method, req->idempotency_key())
                      .empty();
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
    std::string code_hash;
    if (!key_used) {
      absl::StatusOr<std::string> tried = TakeSmsTry(phone_hash, req->code());
      if (!tried.ok()) return tried.status();
      code_hash = *std::move(tried);
    }
    v1::ResetPasswordResponse stored;  // the person; the session is opened after
    // Set only when this call's own transaction commits: a repeat's body also runs (and is
    // rolled back, RunIdempotent), and must still pass the password check below.
    bool ran = false;
    absl::Status done = Idempotent(
        method, req->idempotency_key(), hashed, &stored,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          pg::AfterCommit([&ran] { ran = true; });
          if (code_hash.empty()) return CodeInvalid();  // the key's first use failed: a new code
          absl::StatusOr<std::string> person = SpendSmsCode(tx, phone_hash, code_hash);
          if (!person.ok()) return person.status();
          tx.exec_params(
              "UPDATE people SET password_hash = $2, password_change_required = false, "
              "updated_at = now() WHERE person_id = $1",
              *person, *new_hash);
          RevokeSessions(tx, *person, "password reset", caller.now);
          tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $1)",
                         *person, "reset_password");
          pg::Throttle::Refund(tx, *attempt);  // a right code is no failure
          stored.set_person_id(*person);
          return absl::OkStatus();
        });
    if (!done.ok()) return done;  // counted: the try and the attempt stay used
    std::string person_id = stored.person_id();
    if (!ran) {
      // A repeat of a reset that went through: it opens a session only for whoever knows the
      // password it set, so an old key alone is worth nothing.
      absl::Status same = InReadTx("reset repeat", [&](pqxx::transaction_base& tx) {
        absl::StatusOr<PersonRow> p = LoadPerson(tx, person_id);
        if (!p.ok()) return p.status();
        absl::StatusOr<bool> ok = VerifyPassword(p->password_hash, req->new_password());
        if (!ok.ok()) return ok.status();
        if (!*ok || p->status != v1::PERSON_STATUS_ACTIVE) return CodeInvalid();
        return absl::OkStatus();
      });
      if (!same.ok()) return same;
      throttle_.Refund(*attempt);
    }
    return InTx("open session", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::TokenPair> tokens =
          OpenSession(tx, person_id, req->device_name(), caller.now);
      if (!tokens.ok()) return tokens.status();
      resp->set_person_id(person_id);
      *resp->mutable_tokens() = *std::move(tokens);
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::LoginWithSmsCode(grpc::ServerContext* ctx,
                                                   const v1::LoginWithSmsCodeRequest* req,
                                                   v1::LoginWithSmsCodeResponse* resp) {
  return Handle(ctx, "LoginWithSmsCode", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<std::string> phone = NormalizePhone(req->phone(), "phone");
    if (!phone.ok()) return phone.status();
    if (absl::Status s = CheckCodeShape(req->code()); !s.ok()) return s;
    if (absl::Status s = text::CheckText(req->device_name(), "device_name", {.max = 64}); !s.ok())
      return s;
    const std::string phone_hash = secrets_->PhoneHash(*phone);
    absl::StatusOr<pg::Throttle::Ticket> attempt = TakeSmsCodeAttempt(phone_hash, caller);
    if (!attempt.ok()) return attempt.status();
    absl::StatusOr<std::string> code_hash = TakeSmsTry(phone_hash, req->code());
    if (!code_hash.ok()) return code_hash.status();
    bool has_password = false;
    absl::Status done = InTx("sms sign-in", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<std::string> person = SpendSmsCode(tx, phone_hash, *code_hash);
      if (!person.ok()) return person.status();
      pg::Throttle::Refund(tx, *attempt);
      has_password = !tx.exec_params(
                            "SELECT 1 FROM people WHERE person_id = $1 AND "
                            "password_hash IS NOT NULL",
                            *person)
                          .empty();
      if (has_password) return absl::OkStatus();  // the code is spent; the caller is told why
      absl::StatusOr<v1::TokenPair> tokens =
          OpenSession(tx, *person, req->device_name(), caller.now);
      if (!tokens.ok()) return tokens.status();
      tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $1)",
                     *person, "sms_sign_in");
      resp->set_person_id(*person);
      *resp->mutable_tokens() = *std::move(tokens);
      return absl::OkStatus();
    });
    if (!done.ok()) return done;
    if (has_password) {
      return Refuse(absl::StatusCode::kFailedPrecondition, v1::IDENTITY_ERROR_REASON_PASSWORD_SET,
                    "the account has a password: sign in with it, or reset it with a new code");
    }
    resp->set_device_token(
        IssueDeviceToken(*secrets_, phone_hash, caller.now + options_.login.device_token_ttl));
    return absl::OkStatus();
  });
}

}  // namespace civicpoints::identity
