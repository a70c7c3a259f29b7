#include "services/identity/sms_sender.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "services/identity/input_rules.h"

namespace civicpoints::identity {
namespace {

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

std::string SmsText(const std::string& purpose, const std::string& code, absl::Duration ttl) {
  const std::string what = purpose == "reset_password" ? "重置密码" : "登录";
  return absl::StrCat("【城市积分】您正在", what, "，验证码 ", code, "，",
                      absl::ToInt64Minutes(ttl), " 分钟内有效。如非本人操作，请忽略本短信。");
}

absl::Status LoggingSmsSender::Send(const SmsMessage& message) {
  log::Info(
      "sms sent (log sender)",
      {{"phone", MaskPhone(message.phone)}, {"purpose", message.purpose}, {"code", message.code}});
  return absl::OkStatus();
}

HttpSmsSender::HttpSmsSender(std::string url, std::string token, absl::Duration timeout)
    : url_(std::move(url)), token_(std::move(token)), timeout_(timeout) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

absl::Status HttpSmsSender::Send(const SmsMessage& message) {
  const std::string body = nlohmann::json{
      {"phone", "+86" + message.phone},
      {"purpose", message.purpose},
      {"code", message.code},
      {"text", message.text}}.dump();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (curl == nullptr) return absl::UnavailableError("sms: libcurl could not start a transfer");
  const std::string auth = "Authorization: Bearer " + token_;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, auth.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                          curl_slist_free_all);
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout_)));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");  // the gateway itself, not an environment's proxy
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Discard);
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("sms: the gateway did not answer: ", curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    return absl::UnavailableError(absl::StrCat("sms: the gateway answered HTTP ", status));
  }
  return absl::OkStatus();
}

}  // namespace civicpoints::identity
