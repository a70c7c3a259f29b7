// login, logout, whoami, password change.
#include <unistd.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "civicpoints/identity/v1/identity_service.pb.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/password_input.h"
#include "tools/cpctl/table.h"

namespace civicpoints::cpctl {
namespace {

namespace idv1 = identity::v1;
constexpr char kIdentity[] = "civicpoints.identity.v1.IdentityService.";

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

Session SessionFrom(const std::string& person_id, const idv1::TokenPair& tokens, bool must_change) {
  Session s;
  s.person_id = person_id;
  s.access_token = tokens.access_token();
  s.access_expire_time = FromProto(tokens.access_token_expire_time());
  s.refresh_token = tokens.refresh_token();
  s.refresh_expire_time = FromProto(tokens.refresh_token_expire_time());
  s.password_change_required = must_change;
  return s;
}

std::string DeviceName() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return absl::StrCat("cpctl@", host);
}

struct LoginOptions {
  std::string phone;
  bool password_stdin = false;
  std::string device;
};

absl::Status Login(Context& ctx, const LoginOptions& o) {
  absl::StatusOr<std::string> password =
      ReadPassword(o.password_stdin, "CPCTL_PASSWORD", "password");
  if (!password.ok()) return password.status();
  idv1::LoginRequest req;
  req.set_phone(o.phone);
  req.set_password(*password);
  req.set_device_name(o.device.empty() ? DeviceName() : o.device);
  idv1::LoginResponse resp;
  absl::Status s = ctx.client().CallAnonymous(absl::StrCat(kIdentity, "Login"), req, &resp);
  if (!s.ok()) return s;
  s = ctx.client().Adopt(
      SessionFrom(resp.person_id(), resp.tokens(), resp.password_change_required()));
  if (!s.ok()) return s;
  std::cout << "logged in as " << resp.person_id() << " at " << ctx.client_options.addr << "\n";
  if (resp.password_change_required()) {
    std::cout << "this account must change its password before anything else: run "
                 "`cpctl password change`\n";
  }
  return absl::OkStatus();
}

absl::Status Logout(Context& ctx) {
  absl::StatusOr<std::optional<Session>> s = ctx.client().session();
  if (!s.ok()) return s.status();
  if (!s->has_value()) {
    std::cout << "not logged in\n";
    return absl::OkStatus();
  }
  idv1::LogoutRequest req;
  req.set_refresh_token((*s)->refresh_token);
  idv1::LogoutResponse resp;
  absl::Status revoked = ctx.client().CallAnonymous(absl::StrCat(kIdentity, "Logout"), req, &resp);
  if (absl::Status f = ctx.client().Forget(); !f.ok()) return f;
  if (!revoked.ok() && revoked.code() != absl::StatusCode::kUnauthenticated) {
    std::cerr << "cpctl: the local session is removed, but the server did not confirm the "
                 "logout: "
              << revoked.message() << "\n";
    return revoked;
  }
  std::cout << "logged out\n";
  return absl::OkStatus();
}

absl::Status WhoAmI(Context& ctx) {
  idv1::WhoAmIRequest req;
  idv1::WhoAmIResponse resp;
  if (absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "WhoAmI"), req, &resp); !s.ok()) {
    return s;
  }
  if (ctx.PrintJson(resp)) return absl::OkStatus();
  const idv1::Person& p = resp.person();
  std::cout << "person:  " << p.person_id() << " " << p.display_name() << " " << p.phone_masked()
            << "\n";
  std::cout << "status:  " << EnumLabel(p.status())
            << (p.password_change_required() ? " (must change password)" : "") << "\n";
  std::cout << "gateway: " << ctx.client_options.addr << "\n";
  std::cout << "expires: " << FormatTime(resp.token_expire_time()) << "\n\n";
  Table t({"ROLE", "ORG", "LEVEL", "ORG ID"});
  for (const idv1::RoleGrant& g : resp.role_grants()) {
    t.AddRow({EnumLabel(g.role()), g.org_name(), EnumLabel(g.org_level()), g.org_id()});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

struct PasswordOptions {
  bool stdin_input = false;
};

absl::Status ChangePassword(Context& ctx, const PasswordOptions& o) {
  absl::StatusOr<std::string> current =
      ReadPassword(o.stdin_input, "CPCTL_PASSWORD", "current password");
  if (!current.ok()) return current.status();
  absl::StatusOr<std::string> next =
      o.stdin_input ? ReadStdinLine("new password")
                    : ReadPassword(false, "CPCTL_NEW_PASSWORD", "new password");
  if (!next.ok()) return next.status();
  if (!o.stdin_input && std::getenv("CPCTL_NEW_PASSWORD") == nullptr) {
    absl::StatusOr<std::string> again = ReadPassword(false, nullptr, "new password again");
    if (!again.ok()) return again.status();
    if (*again != *next) return absl::InvalidArgumentError("the new passwords differ");
  }
  absl::StatusOr<std::optional<Session>> session = ctx.client().session();
  if (!session.ok()) return session.status();
  idv1::ChangePasswordRequest req;
  req.set_idempotency_key(NewIdempotencyKey());
  req.set_current_password(*current);
  req.set_new_password(*next);
  req.set_device_name(DeviceName());
  idv1::ChangePasswordResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kIdentity, "ChangePassword"), req, &resp);
  if (!s.ok()) return s;
  const std::string person = session->has_value() ? (*session)->person_id : "";
  if (s = ctx.client().Adopt(SessionFrom(person, resp.tokens(), false)); !s.ok()) return s;
  std::cout << "password changed; other sessions are logged out\n";
  return absl::OkStatus();
}

}  // namespace

void AddAuthCommands(CLI::App& app, Context& ctx) {
  auto lo = std::make_shared<LoginOptions>();
  CLI::App* login = app.add_subcommand(
      "login",
      "log in with a phone number and password; the session is kept in the session file (mode "
      "0600) and refreshed when it expires. The password comes from --password-stdin, "
      "CPCTL_PASSWORD, or is asked for without echo.");
  login->add_option("--phone", lo->phone, "phone number of the account")->required();
  login->add_flag("--password-stdin", lo->password_stdin, "read the password from stdin");
  login->add_option("--device", lo->device, "device name shown in the session list");
  login->callback([&ctx, lo] { ctx.Run([&ctx, lo] { return Login(ctx, *lo); }); });

  app.add_subcommand("logout", "end the session on the server and remove the session file")
      ->callback([&ctx] { ctx.Run([&ctx] { return Logout(ctx); }); });
  app.add_subcommand("whoami", "show who the session belongs to and their role grants")
      ->callback([&ctx] { ctx.Run([&ctx] { return WhoAmI(ctx); }); });

  CLI::App* password = app.add_subcommand("password", "manage your password");
  password->require_subcommand(1);
  auto po = std::make_shared<PasswordOptions>();
  CLI::App* change = password->add_subcommand(
      "change",
      "change your password (required after the first login of a staff account); logs out other "
      "sessions. Passwords are asked for without echo, or read from CPCTL_PASSWORD / "
      "CPCTL_NEW_PASSWORD, or with --stdin as two lines (current, new).");
  change->add_flag("--stdin", po->stdin_input, "read the current and new password from stdin");
  change->callback([&ctx, po] { ctx.Run([&ctx, po] { return ChangePassword(ctx, *po); }); });
}

}  // namespace civicpoints::cpctl
