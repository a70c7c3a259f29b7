// One-time SMS codes: a forgotten password reset with a code read from the log sender's line, a
// first sign-in by SMS for a person created without a password, and what is refused: wrong,
// expired, used-up and never-sent codes (one answer, counted), the request limits, bad input.
#include <gtest/gtest.h>

#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"
#include "services/identity/identity_test_env.h"
#include "services/identity/sms_sender.h"

namespace civicpoints::identity {
namespace {

constexpr char kPhone[] = "13800138010";

class SmsCodeTest : public ::testing::Test {
 protected:
  SmsCodeTest()
      : env_([](IdentityOptions& o) { o.sms_sender = std::make_shared<LoggingSmsSender>(); }) {}

  void SetUp() override { ASSERT_TRUE(env_.ok()); }

  // Requests a code for `phone` and returns the code the log sender wrote ("" when none).
  std::string RequestCode(const std::string& phone, grpc::Status* status = nullptr) {
    ::testing::internal::CaptureStderr();
    v1::RequestSmsCodeRequest req;
    req.set_phone(phone);
    v1::RequestSmsCodeResponse resp;
    grpc::Status s = env_.stub().RequestSmsCode(env_.With("").get(), req, &resp);
    const std::string log = ::testing::internal::GetCapturedStderr();
    if (status != nullptr) *status = s;
    if (s.ok()) {
      EXPECT_EQ(resp.expire_seconds(), 300);
      EXPECT_EQ(resp.resend_after_seconds(), 60);
    }
    std::smatch m;
    if (!std::regex_search(log, m, std::regex("\"code\":\"([0-9]{6})\""))) return "";
    EXPECT_NE(log.find(absl::StrCat(phone.substr(0, 3), "****", phone.substr(7))),
              std::string::npos)
        << "the line names the masked number";
    return m[1];
  }

  grpc::Status Reset(const std::string& phone, const std::string& code, const std::string& key,
                     const std::string& password, v1::ResetPasswordResponse* resp) {
    v1::ResetPasswordRequest req;
    req.set_idempotency_key(key);
    req.set_phone(phone);
    req.set_code(code);
    req.set_new_password(password);
    return env_.stub().ResetPassword(env_.With("").get(), req, resp);
  }

  grpc::Status SmsLogin(const std::string& phone, const std::string& code,
                        v1::LoginWithSmsCodeResponse* resp) {
    v1::LoginWithSmsCodeRequest req;
    req.set_phone(phone);
    req.set_code(code);
    return env_.stub().LoginWithSmsCode(env_.With("").get(), req, resp);
  }

  static std::string Reason(const grpc::Status& s) { return ErrorReasonOf(FromGrpcStatus(s)); }

  // Moves the requests for codes two minutes back, so the per-number minute allows another.
  void AgeRequests() {
    env_.Sql(
        "UPDATE throttle_events SET at_us = at_us - 120000000 "
        "WHERE bucket LIKE 'sms-send:phone:%' RETURNING 1");
  }

  IdentityTestEnv env_;
};

TEST_F(SmsCodeTest, AForgottenPasswordIsResetWithACodeAndEverySessionEnds) {
  const v1::RegisterRiderResponse rider = env_.Register(kPhone, "王建军");
  const std::string id = rider.person().person_id();
  const std::string code = RequestCode(kPhone);
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM sms_codes"), "1");
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT count(*) FROM sms_codes WHERE code_hash = '", code,
                                  "'::bytea")),
            "0")
      << "only a keyed hash is stored";

  // A wrong code, then the right one.
  v1::ResetPasswordResponse reset;
  const std::string wrong = code == "000000" ? "000001" : "000000";
  grpc::Status s = Reset(kPhone, wrong, "reset-1", "New-pass-2027", &reset);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Reason(s), "SMS_CODE_INVALID");
  s = Reset(kPhone, code, "reset-2", "New-pass-2027", &reset);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reset.person_id(), id);
  EXPECT_FALSE(reset.tokens().access_token().empty());
  // Every session before the reset ended; the reset's own is the one open.
  EXPECT_EQ(env_.Sql(absl::StrCat("SELECT count(*) FROM sessions WHERE person_id = '", id,
                                  "' AND revoked_at IS NULL")),
            "1");
  v1::RefreshTokenRequest refresh;
  refresh.set_refresh_token(rider.tokens().refresh_token());
  v1::RefreshTokenResponse refreshed;
  EXPECT_EQ(env_.stub().RefreshToken(env_.With("").get(), refresh, &refreshed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(env_.Login(kPhone, "New-pass-2027").empty());
  EXPECT_TRUE(env_.Login(kPhone, kRiderPassword).empty());

  // The code is used up; a retry of the same reset (a lost answer) opens another session only
  // with the password it set.
  s = Reset(kPhone, code, "reset-3", "Other-pass-2028", &reset);
  EXPECT_EQ(Reason(s), "SMS_CODE_INVALID");
  ASSERT_TRUE(Reset(kPhone, code, "reset-2", "New-pass-2027", &reset).ok());
  EXPECT_EQ(reset.person_id(), id);
  EXPECT_EQ(Reason(Reset(kPhone, code, "reset-2", "Guessed-pass-1", &reset)), "SMS_CODE_INVALID");
}

TEST_F(SmsCodeTest, WrongExpiredAndUsedUpCodesGetOneAnswer) {
  env_.Register(kPhone, "李四");
  // An unknown number is answered the same, and nothing is sent.
  grpc::Status s;
  EXPECT_EQ(RequestCode("13900000999", &s), "");
  EXPECT_TRUE(s.ok()) << s.error_message();
  v1::ResetPasswordResponse reset;
  EXPECT_EQ(Reason(Reset("13900000999", "123456", "r0", "New-pass-2027", &reset)),
            "SMS_CODE_INVALID");

  // Five tries: after five wrong codes the right one no longer works.
  std::string code = RequestCode(kPhone);
  ASSERT_FALSE(code.empty());
  const std::string wrong = code == "000000" ? "000001" : "000000";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Reason(Reset(kPhone, wrong, absl::StrCat("w", i), "New-pass-2027", &reset)),
              "SMS_CODE_INVALID");
  }
  EXPECT_EQ(Reason(Reset(kPhone, code, "w5", "New-pass-2027", &reset)), "SMS_CODE_INVALID");

  // A second code within the minute is refused with the wait; after it, a new code replaces the
  // old, which expires after five minutes.
  EXPECT_EQ(RequestCode(kPhone, &s), "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  AgeRequests();
  code = RequestCode(kPhone);
  ASSERT_FALSE(code.empty());
  env_.Sql("UPDATE sms_codes SET expires_at = now() - interval '1 second' RETURNING 1");
  EXPECT_EQ(Reason(Reset(kPhone, code, "late", "New-pass-2027", &reset)), "SMS_CODE_INVALID");
  EXPECT_FALSE(env_.Login(kPhone, kRiderPassword).empty()) << "the password is unchanged";

  // Wrong codes are counted per number: past ten in 15 minutes the number is held off.
  for (int i = 0; i < 4; ++i) Reset(kPhone, wrong, absl::StrCat("x", i), "New-pass-2027", &reset);
  s = Reset(kPhone, wrong, "x-last", "New-pass-2027", &reset);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
}

TEST_F(SmsCodeTest, APersonCreatedWithoutAPasswordSignsInFirstBySms) {
  v1::CreatePersonRequest create;
  create.set_idempotency_key("no-password");
  create.set_phone("13800138011");
  create.set_display_name("新骑手");
  v1::CreatePersonResponse created;
  ASSERT_TRUE(env_.stub().CreatePerson(env_.With(env_.admin_token()).get(), create, &created).ok());
  EXPECT_FALSE(created.person().password_change_required());
  EXPECT_TRUE(env_.Login("13800138011", "Anything-2026").empty()) << "no password to sign in with";

  v1::LoginWithSmsCodeResponse login;
  std::string code = RequestCode("13800138011");
  ASSERT_FALSE(code.empty());
  grpc::Status s = SmsLogin("13800138011", code, &login);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(login.person_id(), created.person().person_id());
  EXPECT_FALSE(login.tokens().access_token().empty());
  EXPECT_EQ(Reason(SmsLogin("13800138011", code, &login)), "SMS_CODE_INVALID") << "used once";

  // Someone with a password signs in with it: the code is spent and the answer says why.
  env_.Register(kPhone, "赵六");
  code = RequestCode(kPhone);
  s = SmsLogin(kPhone, code, &login);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "PASSWORD_SET");
}

TEST_F(SmsCodeTest, BadInputNamesTheFieldAndSendsNothing) {
  grpc::Status s;
  EXPECT_EQ(RequestCode("12345", &s), "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "phone:")) << s.error_message();
  v1::ResetPasswordResponse reset;
  for (const char* bad : {"12345", "1234567", "12a456", ""}) {
    s = Reset(kPhone, bad, "bad-code", "New-pass-2027", &reset);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), "code:")) << s.error_message();
  }
  s = Reset(kPhone, "123456", "bad-password", "short", &reset);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "new_password:")) << s.error_message();
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM sms_codes"), "0");
}

TEST(SmsCodeOffTest, ADeploymentWithoutASenderSaysSo) {
  IdentityTestEnv env;
  ASSERT_TRUE(env.ok());
  v1::RequestSmsCodeRequest req;
  req.set_phone(kPhone);
  v1::RequestSmsCodeResponse resp;
  grpc::Status s = env.stub().RequestSmsCode(env.With("").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("identity_sms_sender"), std::string::npos);
}

}  // namespace
}  // namespace civicpoints::identity
