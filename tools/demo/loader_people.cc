// The admin signs in (changing the bootstrap password the first time), builds the org tree the
// story names, and creates the street and community workers with their roles.
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "tools/demo/loader.h"

namespace civicpoints::demo {
namespace {

namespace iv1 = identity::v1;

absl::StatusOr<iv1::LoginResponse> Login(GatewayClient* gw, const std::string& phone,
                                         const std::string& password) {
  iv1::LoginRequest req;
  req.set_phone(phone);
  req.set_password(password);
  req.set_device_name("cp_demo");
  iv1::LoginResponse resp;
  RETURN_IF_ERROR(gw->Call(&IdentityStub::Login, "", req, &resp));
  return resp;
}

// Signs in with `preferred`, else with `initial` and then changes it to `preferred` when the
// account must change its password. Returns the session and the password that now works.
absl::StatusOr<std::pair<Session, std::string>> SignIn(GatewayClient* gw, const std::string& phone,
                                                       const std::string& preferred,
                                                       const std::string& initial,
                                                       const std::string& change_key) {
  absl::StatusOr<iv1::LoginResponse> login = Login(gw, phone, preferred);
  std::string password = preferred;
  if (!login.ok() && login.status().code() == absl::StatusCode::kUnauthenticated &&
      initial != preferred) {
    login = Login(gw, phone, initial);
    password = initial;
  }
  if (!login.ok()) return login.status();
  Session session{login->person_id(), login->tokens().access_token()};
  if (login->password_change_required()) {
    if (password == preferred) {
      return absl::FailedPreconditionError(absl::StrCat(
          phone, " must change its password, but the demo password is the current one"));
    }
    iv1::ChangePasswordRequest change;
    change.set_idempotency_key(change_key);
    change.set_current_password(password);
    change.set_new_password(preferred);
    change.set_device_name("cp_demo");
    iv1::ChangePasswordResponse changed;
    RETURN_IF_ERROR(gw->Call(&IdentityStub::ChangePassword, session.token, change, &changed));
    session.token = changed.tokens().access_token();
    password = preferred;
  }
  return std::make_pair(session, password);
}

}  // namespace

absl::Status DemoLoader::SignInAdmin() {
  ASSIGN_OR_RETURN(auto signed_in, SignIn(gw_, opt_.admin_phone, opt_.admin_demo_password,
                                          opt_.admin_password, "demo-admin-first-login"));
  admin_ = signed_in.first;
  admin_password_now_ = signed_in.second;
  return absl::OkStatus();
}

absl::Status DemoLoader::LoadOrgTree() {
  for (const OrgNodeSpec& spec : StoryOrgTree()) {
    iv1::CreateOrgNodeRequest req;
    req.set_parent_id(spec.parent_code.empty() ? "root" : Org(spec.parent_code));
    req.set_level(spec.level);
    req.set_code(spec.code);
    req.set_name(spec.name);
    req.set_division_code(spec.division_code);
    iv1::CreateOrgNodeResponse resp;
    absl::Status created = gw_->Call(&IdentityStub::CreateOrgNode, admin_.token, req, &resp);
    iv1::OrgNode node = resp.node();
    if (created.code() == absl::StatusCode::kAlreadyExists) {
      // The node is there but differs (renamed in the console): use it as it is.
      iv1::LookupOrgNodeRequest lookup;
      lookup.set_code(spec.code);
      iv1::LookupOrgNodeResponse found;
      RETURN_IF_ERROR(gw_->Call(&IdentityStub::LookupOrgNode, admin_.token, lookup, &found));
      node = found.node();
    } else if (!created.ok()) {
      return created;
    }
    if (!spec.division_code.empty() && node.division_code().empty()) {
      // A tree loaded before nodes carried division codes gets the story's.
      iv1::SetOrgDivisionCodeRequest set;
      set.set_org_id(node.org_id());
      set.set_division_code(spec.division_code);
      iv1::SetOrgDivisionCodeResponse done;
      RETURN_IF_ERROR(gw_->Call(&IdentityStub::SetOrgDivisionCode, admin_.token, set, &done));
    }
    org_ids_[spec.code] = node.org_id();
    if (spec.code == kQingyuanWestCode) {
      anchor_ = absl::FromUnixSeconds(node.create_time().seconds());
    }
  }
  return absl::OkStatus();
}

absl::Status DemoLoader::LoadStaff() {
  for (const StaffSpec& spec : StoryStaff()) {
    iv1::CreatePersonRequest req;
    req.set_idempotency_key(absl::StrCat("demo-staff-", spec.phone));
    req.set_phone(spec.phone);
    req.set_display_name(spec.display_name);
    req.set_initial_password(spec.initial_password);
    iv1::CreatePersonResponse resp;
    std::string person_id;
    absl::Status created = gw_->Call(&IdentityStub::CreatePerson, admin_.token, req, &resp);
    if (created.ok()) {
      person_id = resp.person().person_id();
    } else if (created.code() == absl::StatusCode::kAlreadyExists) {
      iv1::FindPersonByPhoneRequest find;
      find.set_phone(spec.phone);
      iv1::FindPersonByPhoneResponse found;
      RETURN_IF_ERROR(gw_->Call(&IdentityStub::FindPersonByPhone, admin_.token, find, &found));
      person_id = found.person().person_id();
    } else {
      return created;
    }
    iv1::GrantRoleRequest grant;
    grant.set_person_id(person_id);
    grant.set_role(spec.role);
    grant.set_org_id(Org(spec.org_code));
    iv1::GrantRoleResponse granted;
    RETURN_IF_ERROR(gw_->Call(&IdentityStub::GrantRole, admin_.token, grant, &granted));
    ASSIGN_OR_RETURN(Session session, SignInStaff(spec, person_id));
    if (spec.role == common::v1::ROLE_STREET_STAFF) street_ = session;
    if (spec.role == common::v1::ROLE_COMMUNITY_STAFF) community_ = session;
    if (spec.role == common::v1::ROLE_DEPARTMENT_STAFF) department_ = session;
  }
  return absl::OkStatus();
}

absl::StatusOr<Session> DemoLoader::SignInStaff(const StaffSpec& spec,
                                                const std::string& person_id) {
  ASSIGN_OR_RETURN(auto signed_in,
                   SignIn(gw_, spec.phone, opt_.staff_password, spec.initial_password,
                          absl::StrCat("demo-staff-first-login-", spec.phone)));
  if (signed_in.first.person_id != person_id) {
    return absl::InternalError(absl::StrCat(spec.phone, " signed in as another person"));
  }
  return signed_in.first;
}

}  // namespace civicpoints::demo
