#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"
#include "tools/cpctl/row_importers.h"

namespace civicpoints::cpctl {

const char kRiderColumnsHelp[] =
    "Columns (header row required, any order):\n"
    "  phone             mainland mobile number, e.g. 13800138000 (required)\n"
    "  display_name      name shown in rankings, up to 32 characters (required)\n"
    "  password          first password, 8-64 characters (required)\n"
    "  community         community id or code to check the rider in at (optional)\n"
    "  platform          delivery platform, e.g. meituan, eleme, sf-express (optional)\n"
    "  platform_rider_id the rider's id on that platform (required with platform)\n"
    "Each rider consents to every purpose of the current privacy policy (the signed form).\n";

namespace {

namespace idv1 = identity::v1;
constexpr char kIdentity[] = "civicpoints.identity.v1.IdentityService.";

bool Transient(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kResourceExhausted ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

// The column a server message is about ("password: is too weak" → password).
std::string ColumnOf(absl::string_view message) {
  for (const char* c :
       {"phone", "password", "display_name", "check_in_code", "platform_accounts"}) {
    if (absl::StartsWith(message, absl::StrCat(c, ":")) ||
        absl::StartsWith(message, absl::StrCat(c, "[")) ||
        absl::StartsWith(message, absl::StrCat(c, "."))) {
      if (absl::string_view(c) == "check_in_code") return "community";
      if (absl::string_view(c) == "platform_accounts") return "platform_rider_id";
      return c;
    }
  }
  if (absl::StrContains(message, "phone")) return "phone";
  return "";
}

class RiderRowImporter : public RowImporter {
 public:
  explicit RiderRowImporter(Context& ctx) : ctx_(ctx) {}

  std::vector<std::string> RequiredColumns() const override {
    return {"phone", "display_name", "password"};
  }
  std::vector<std::string> OptionalColumns() const override {
    return {"community", "platform", "platform_rider_id"};
  }

  absl::Status Check(const CsvTable& t, const CsvRow& row, std::string* field) override {
    idv1::RegisterRiderRequest req;
    return Build(t, row, &req, field);
  }

  absl::Status Send(const CsvTable& t, const CsvRow& row, const std::string& key,
                    absl::Time run_start, bool* created, std::string* field) override {
    idv1::RegisterRiderRequest req;
    if (absl::Status s = Build(t, row, &req, field); !s.ok()) return s;
    if (absl::Status s = FillConsent(&req); !s.ok()) return s;
    if (const std::string community = t.Field(row, "community"); !community.empty()) {
      absl::StatusOr<std::string> code = CheckInCode(community);
      if (!code.ok()) {
        *field = "community";
        return code.status();
      }
      req.set_check_in_code(*code);
    }
    req.set_device_name("cpctl import");
    req.set_idempotency_key(key);
    idv1::RegisterRiderResponse resp;
    absl::Status s = ctx_.client().Call(absl::StrCat(kIdentity, "RegisterRider"), req, &resp);
    // A phone that already has an account with another password is answered as a failed
    // sign-in (identity never says "already registered"): that row's problem, not the session's.
    if (s.code() == absl::StatusCode::kUnauthenticated &&
        absl::StrContains(s.message(), "phone number or password is wrong")) {
      *field = "phone";
      return absl::FailedPreconditionError(
          "the phone already has an account with another password (not imported)");
    }
    if (!s.ok()) {
      *field = ColumnOf(s.message());
      return s;
    }
    // The rider logs in on their own phone; the session registration opened is not needed.
    idv1::LogoutRequest out;
    out.set_refresh_token(resp.tokens().refresh_token());
    idv1::LogoutResponse ignored;
    (void)ctx_.client().CallAnonymous(absl::StrCat(kIdentity, "Logout"), out, &ignored);
    const auto& ct = resp.person().create_time();
    *created = absl::FromUnixSeconds(ct.seconds()) + absl::Nanoseconds(ct.nanos()) >= run_start;
    return absl::OkStatus();
  }

 private:
  absl::Status Build(const CsvTable& t, const CsvRow& row, idv1::RegisterRiderRequest* req,
                     std::string* field) {
    for (const std::string& c : RequiredColumns()) {
      if (t.Field(row, c).empty()) {
        *field = c;
        return absl::InvalidArgumentError(absl::StrCat(c, " is empty"));
      }
    }
    std::string digits;
    for (char c : t.Field(row, "phone")) {
      if (absl::ascii_isdigit(c)) {
        digits.push_back(c);
      } else if (c != ' ' && c != '-' && c != '+') {
        *field = "phone";
        return absl::InvalidArgumentError(
            absl::StrCat("phone: '", t.Field(row, "phone"), "' has a character other than digits"));
      }
    }
    if (digits.size() == 13 && absl::StartsWith(digits, "86")) digits = digits.substr(2);
    if (digits.size() != 11 || digits[0] != '1') {
      *field = "phone";
      return absl::InvalidArgumentError(absl::StrCat(
          "phone: '", t.Field(row, "phone"), "' is not an 11-digit mainland mobile number"));
    }
    req->set_phone(digits);
    req->set_display_name(t.Field(row, "display_name"));
    req->set_password(t.Field(row, "password"));
    const std::string platform = t.Field(row, "platform");
    const std::string platform_id = t.Field(row, "platform_rider_id");
    if (!platform.empty() || !platform_id.empty()) {
      if (platform.empty() || platform_id.empty()) {
        *field = platform.empty() ? "platform" : "platform_rider_id";
        return absl::InvalidArgumentError("platform and platform_rider_id go together");
      }
      absl::StatusOr<idv1::DeliveryPlatform> p =
          ParseEnum<idv1::DeliveryPlatform>(platform, "platform");
      if (!p.ok()) {
        *field = "platform";
        return p.status();
      }
      idv1::PlatformAccount* a = req->add_platform_accounts();
      a->set_platform(*p);
      a->set_platform_rider_id(platform_id);
    }
    return absl::OkStatus();
  }

  absl::Status FillConsent(idv1::RegisterRiderRequest* req) {
    if (!policy_.has_value()) {
      idv1::GetPrivacyPolicyRequest preq;
      idv1::GetPrivacyPolicyResponse presp;
      absl::Status s =
          ctx_.client().Call(absl::StrCat(kIdentity, "GetPrivacyPolicy"), preq, &presp);
      if (!s.ok()) return s;
      policy_ = std::move(presp);
    }
    req->mutable_consent()->set_policy_version(policy_->policy_version());
    for (const idv1::PolicyPurpose& p : policy_->purposes()) {
      req->mutable_consent()->add_purposes(p.purpose());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> CheckInCode(const std::string& community) {
    auto it = codes_.find(community);
    if (it != codes_.end()) return it->second;
    absl::StatusOr<std::string> result = [&]() -> absl::StatusOr<std::string> {
      absl::StatusOr<std::string> id = ResolveOrgId(ctx_, community);
      if (!id.ok()) return id.status();
      idv1::GetCheckInCodeRequest req;
      req.set_org_id(*id);
      idv1::GetCheckInCodeResponse resp;
      absl::Status s = ctx_.client().Call(absl::StrCat(kIdentity, "GetCheckInCode"), req, &resp);
      if (!s.ok()) return s;
      return resp.code().code();
    }();
    if (result.ok() || !Transient(result.status())) codes_.emplace(community, result);
    return result;
  }

  Context& ctx_;
  std::optional<idv1::GetPrivacyPolicyResponse> policy_;
  std::map<std::string, absl::StatusOr<std::string>> codes_;
};

}  // namespace

std::unique_ptr<RowImporter> NewRiderRowImporter(Context& ctx) {
  return std::make_unique<RiderRowImporter>(ctx);
}

}  // namespace civicpoints::cpctl
