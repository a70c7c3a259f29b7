// SmsSender: how identity sends a rider a one-time code (password reset, first sign-in). Two kinds:
// LoggingSmsSender writes the message to the log, for development and tests (which read the code
// there); HttpSmsSender POSTs it as JSON to an SMS gateway of the deployment's (settings
// sms_http_url and sms_http_token_file). The text names the programme and how long the code lasts;
// a code never appears in any other log line. Thread-safe.
#ifndef CIVICPOINTS_SERVICES_IDENTITY_SMS_SENDER_H_
#define CIVICPOINTS_SERVICES_IDENTITY_SMS_SENDER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace civicpoints::identity {

// One message: to a mainland number (11 digits), its code and the text carrying it.
struct SmsMessage {
  std::string phone;    // "13800138000"
  std::string purpose;  // "reset_password", "sign_in"
  std::string code;     // "042917"
  std::string text;     // "【城市积分】验证码 042917，5 分钟内有效……"
};

class SmsSender {
 public:
  virtual ~SmsSender() = default;
  // Errors: UNAVAILABLE when the message could not be handed over.
  virtual absl::Status Send(const SmsMessage& message) = 0;
};

// Writes each message as one info line, "sms sent (log sender)", with the masked phone and the
// code: for a suite on one machine, never for a deployment riders use.
class LoggingSmsSender final : public SmsSender {
 public:
  absl::Status Send(const SmsMessage& message) override;
};

// POSTs {"phone": "+86…", "purpose": …, "code": …, "text": …} to `url` with `Authorization:
// Bearer <token>`; a 2xx answer is sent, anything else (or no answer within `timeout`) is
// UNAVAILABLE naming the status.
class HttpSmsSender final : public SmsSender {
 public:
  HttpSmsSender(std::string url, std::string token, absl::Duration timeout = absl::Seconds(5));
  absl::Status Send(const SmsMessage& message) override;

 private:
  const std::string url_;
  const std::string token_;
  const absl::Duration timeout_;
};

// The message's text for `purpose` with `code`, valid for `ttl`.
std::string SmsText(const std::string& purpose, const std::string& code, absl::Duration ttl);

}  // namespace civicpoints::identity

#endif  // CIVICPOINTS_SERVICES_IDENTITY_SMS_SENDER_H_
