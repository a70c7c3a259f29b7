// People: staff accounts, lookups by id and by phone, listing a subtree's people, status changes,
// the rider's own profile and personal data.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "civicpoints/identity/v1/errors.pb.h"
#include "common/base/text.h"
#include "common/pg/sql_values.h"
#include "common/status/refusal.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"
#include "services/identity/ranking_name.h"
#include "services/identity/records.h"
#include "services/identity/rider_orders.h"
#include "services/identity/service_support.h"

namespace civicpoints::identity {

absl::Status LinkPlatformAccounts(
    pqxx::transaction_base& tx, const std::string& person_id,
    const google::protobuf::RepeatedPtrField<v1::PlatformAccount>& accounts);
absl::Status CheckRiderPlatformAccounts(
    const google::protobuf::RepeatedPtrField<v1::PlatformAccount>& accounts);

namespace {

using common::v1::ROLE_DISTRICT_ADMIN;

constexpr int kPhoneLookupsPerCaller = 30;
constexpr absl::Duration kPhoneLookupWindow = absl::Minutes(10);
constexpr char kClosedName[] = "已注销用户";

absl::Status CheckMask(const google::protobuf::FieldMask& mask,
                       std::initializer_list<absl::string_view> allowed) {
  if (mask.paths().empty()) return absl::InvalidArgumentError("update_mask: is empty");
  for (const std::string& path : mask.paths()) {
    if (std::find(allowed.begin(), allowed.end(), path) == allowed.end()) {
      return absl::InvalidArgumentError(absl::StrCat("update_mask: cannot update '", path,
                                                     "'; allowed: ", absl::StrJoin(allowed, ", ")));
    }
  }
  return absl::OkStatus();
}

bool InMask(const google::protobuf::FieldMask& mask, absl::string_view path) {
  return std::find(mask.paths().begin(), mask.paths().end(), path) != mask.paths().end();
}

// The categories of personal data identity holds, for GetMyPersonalData.
void DescribeHeldData(v1::GetMyPersonalDataResponse* resp) {
  struct Category {
    const char* name;
    const char* storage;
    const char* retention;
    v1::ConsentPurpose purpose;
  };
  static constexpr Category kHeld[] = {
      {"手机号", "仅保存带密钥的哈希（用于登录查找）和掩码形式（138****1234），不保存明文",
       "账号注销时删除", v1::CONSENT_PURPOSE_ACCOUNT},
      {"密码", "argon2id 摘要，不可还原", "账号注销时删除", v1::CONSENT_PURPOSE_ACCOUNT},
      {"昵称", "明文", "账号注销时替换为“已注销用户”", v1::CONSENT_PURPOSE_ACCOUNT},
      {"配送平台账号", "平台名称与骑手编号", "账号注销时删除",
       v1::CONSENT_PURPOSE_COMMUNITY_SERVICE},
      {"社区报到记录", "社区、时间、审核人", "保留 3 年后删除",
       v1::CONSENT_PURPOSE_COMMUNITY_SERVICE},
      {"登录会话", "设备名称与时间；刷新令牌仅存摘要", "过期 30 天后删除",
       v1::CONSENT_PURPOSE_ACCOUNT},
  };
  for (const Category& c : kHeld) {
    v1::HeldDataCategory* out = resp->add_data_categories();
    out->set_name(c.name);
    out->set_storage(c.storage);
    out->set_retention(c.retention);
    out->set_purpose(c.purpose);
  }
  resp->set_other_services_note(
      "积分、活动与服务记录、礼品兑换记录由积分、活动和礼品服务保存，请在对应页面查看。");
}

}  // namespace

void IdentityServiceImpl::EraseAccount(pqxx::transaction_base& tx, const std::string& person_id,
                                       const std::string& actor) {
  // Closing erases personal data (PIPL art. 47) and ends the person's place in the tree.
  tx.exec_params(
      "UPDATE people SET phone_hash = NULL, phone_masked = NULL, password_hash = NULL, "
      "display_name = $2, nickname = NULL WHERE person_id = $1",
      person_id, kClosedName);
  tx.exec_params("DELETE FROM platform_accounts WHERE person_id = $1", person_id);
  tx.exec_params(
      "UPDATE check_ins SET status = check_in_status('ENDED'), ended_at = now() WHERE "
      "person_id = $1 AND status = check_in_status('ACTIVE')",
      person_id);
  tx.exec_params(
      "UPDATE check_ins SET status = check_in_status('CANCELLED'), decided_at = now() WHERE "
      "person_id = $1 AND status = check_in_status('PENDING')",
      person_id);
  tx.exec_params(
      "UPDATE role_grants SET revoked_at = now(), revoked_by = $2, "
      "revoke_reason = 'account closed' WHERE person_id = $1 AND revoked_at IS NULL",
      person_id, actor);
}

grpc::Status IdentityServiceImpl::CreatePerson(grpc::ServerContext* ctx,
                                               const v1::CreatePersonRequest* req,
                                               v1::CreatePersonResponse* resp) {
  return Handle(ctx, "CreatePerson", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    absl::StatusOr<std::string> phone = NormalizePhone(req->phone(), "phone");
    if (!phone.ok()) return phone.status();
    if (absl::Status s =
            text::CheckText(req->display_name(), "display_name", {.max = 32, .required = true});
        !s.ok())
      return s;
    // Without an initial password the person's first sign-in is by SMS code.
    const bool with_password = !req->initial_password().empty();
    if (with_password) {
      if (absl::Status s = CheckPassword(req->initial_password(), *phone, "initial_password");
          !s.ok()) {
        return s;
      }
    }
    v1::CreatePersonRequest hashed = *req;
    hashed.clear_initial_password();
    hashed.set_initial_password(with_password ? "set" : "");  // which of the two, not the secret
    std::string password_hash;                                // empty: none (stored as NULL)
    if (with_password) {
      absl::StatusOr<std::string> hash = HashPassword(req->initial_password());
      if (!hash.ok()) return hash.status();
      password_hash = *std::move(hash);
    }
    return Idempotent(
        absl::StrCat("CreatePerson:", caller.who().subject), req->idempotency_key(), hashed, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          const std::string phone_hash = secrets_->PhoneHash(*phone);
          if (!tx.exec_params("SELECT 1 FROM people WHERE phone_hash = $1",
                              pqxx::binarystring(phone_hash))
                   .empty()) {
            return absl::AlreadyExistsError("phone: is already registered to another person");
          }
          const std::string id = NewId("p");
          tx.exec_params(
              "INSERT INTO people (person_id, display_name, phone_hash, phone_masked, "
              "password_hash, password_change_required) VALUES ($1, $2, $3, $4, nullif($5, ''), "
              "$6)",
              id, req->display_name(), pqxx::binarystring(phone_hash), MaskPhone(*phone),
              password_hash, with_password);
          tx.exec_params("INSERT INTO audit_events (actor, action, target) VALUES ($1, $2, $3)",
                         caller.who().subject, "create_person", id);
          return FetchPerson(tx, id, true, resp->mutable_person());
        });
  });
}

grpc::Status IdentityServiceImpl::GetPerson(grpc::ServerContext* ctx,
                                            const v1::GetPersonRequest* req,
                                            v1::GetPersonResponse* resp) {
  return Handle(ctx, "GetPerson", [&](const Caller& caller) -> absl::Status {
    if (req->person_id().empty()) return absl::InvalidArgumentError("person_id: is required");
    return InReadTx("get person", [&](pqxx::transaction_base& tx) -> absl::Status {
      if (absl::Status s = FetchPerson(tx, req->person_id(), !IsCitySystem(caller.who()),
                                       resp->mutable_person());
          !s.ok()) {
        return s;
      }
      absl::StatusOr<bool> covered = CoversPerson(tx, caller.who(), req->person_id());
      if (!covered.ok()) return covered.status();
      if (!*covered) {
        resp->Clear();
        return Refuse(absl::StatusCode::kPermissionDenied,
                      v1::IDENTITY_ERROR_REASON_OUTSIDE_ORG_SCOPE,
                      absl::StrCat("person ", req->person_id(),
                                   " is outside the org nodes the caller's roles cover"));
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::BatchGetPeople(grpc::ServerContext* ctx,
                                                 const v1::BatchGetPeopleRequest* req,
                                                 v1::BatchGetPeopleResponse* resp) {
  return Handle(ctx, "BatchGetPeople", [&](const Caller& caller) -> absl::Status {
    if (req->person_ids().empty()) return absl::InvalidArgumentError("person_ids: is empty");
    if (req->person_ids_size() > 100) {
      return absl::InvalidArgumentError("person_ids: has more than 100 entries");
    }
    return InReadTx("batch get people", [&](pqxx::transaction_base& tx) -> absl::Status {
      for (const std::string& id : req->person_ids()) {
        v1::Person* p = resp->add_people();
        if (absl::Status s = FetchPerson(tx, id, !IsCitySystem(caller.who()), p); !s.ok()) {
          return absl::NotFoundError(absl::StrCat("person_ids: no person '", id, "'"));
        }
        absl::StatusOr<bool> covered = CoversPerson(tx, caller.who(), id);
        if (!covered.ok()) return covered.status();
        if (!*covered) {
          // Names are public within the suite (rankings show them); the rest is not.
          v1::Person reduced;
          reduced.set_person_id(p->person_id());
          reduced.set_kind(p->kind());
          reduced.set_display_name(p->display_name());
          *p = std::move(reduced);
        }
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::ListPeople(grpc::ServerContext* ctx,
                                             const v1::ListPeopleRequest* req,
                                             v1::ListPeopleResponse* resp) {
  return Handle(ctx, "ListPeople", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s =
            text::CheckText(req->display_name_prefix(), "display_name_prefix", {.max = 32});
        !s.ok()) {
      return s;
    }
    bool riders = req->roles().empty();
    std::vector<std::string> staff_roles;
    for (int r : req->roles()) {
      if (r == common::v1::ROLE_UNSPECIFIED || !common::v1::Role_IsValid(r)) {
        return absl::InvalidArgumentError("roles: holds ROLE_UNSPECIFIED or an unknown role");
      }
      if (r == common::v1::ROLE_RIDER) {
        riders = true;
      } else {
        staff_roles.push_back(std::to_string(r));
      }
    }
    if (req->roles().empty()) staff_roles = {"2", "3", "4", "5", "6"};
    std::vector<std::string> statuses;
    for (int s : req->statuses()) {
      if (s == v1::PERSON_STATUS_UNSPECIFIED || !v1::PersonStatus_IsValid(s)) {
        return absl::InvalidArgumentError("statuses: holds PERSON_STATUS_UNSPECIFIED or unknown");
      }
      statuses.push_back(std::to_string(s));
    }
    if (statuses.empty()) statuses = {"1", "2"};
    absl::StatusOr<Paging> paging = StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    return InReadTx("list people", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<OrgRow> org = LoadOrg(tx, req->org_id(), "org_id");
      if (!org.ok()) return org.status();
      if (absl::Status s = CheckCoversOrg(caller.who(), *org, "org node " + org->org_id); !s.ok())
        return s;
      const std::string rider_in =
          org->level == common::v1::ORG_LEVEL_CITY
              ? "p.is_rider"
              : "EXISTS (SELECT 1 FROM check_ins ci WHERE ci.person_id = p.person_id AND "
                "ci.status = check_in_status('ACTIVE') AND " +
                    InSubtree(*org, "ci.community_id", "ci.district_id", "ci.street_id", 1) + ")";
      const std::string sql = absl::StrCat(
          "SELECT ", kPersonColumns, " FROM people p WHERE p.status = ANY($2::smallint[]) ",
          "AND left(p.display_name, char_length($3)) = $3 AND ((", riders ? "TRUE" : "FALSE",
          " AND ", rider_in,
          ") OR EXISTS (SELECT 1 FROM role_grants g JOIN org_nodes o ON o.org_id = g.org_id "
          "WHERE g.person_id = p.person_id AND g.revoked_at IS NULL AND g.role = "
          "ANY($4::smallint[]) AND ",
          InSubtree(*org, "o.org_id", "o.district_id", "o.street_id", 1),
          ")) AND ($5::bigint = 0 OR (us(p.created_at), p.person_id) < ($5, $6)) "
          "ORDER BY p.created_at DESC, p.person_id DESC LIMIT $7");
      const int64_t after_us = paging->after_us();
      pqxx::result rows = tx.exec_params(sql, org->org_id, pg::TextArray(statuses),
                                         req->display_name_prefix(), pg::TextArray(staff_roles),
                                         after_us, paging->after_id(), paging->size + 1);
      resp->set_next_page_token(FillPage(rows, *paging, 9, [&](const pqxx::row& row) {
        FillPerson(tx, row, true, resp->add_people());
      }));
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::FindPersonByPhone(grpc::ServerContext* ctx,
                                                    const v1::FindPersonByPhoneRequest* req,
                                                    v1::FindPersonByPhoneResponse* resp) {
  return Handle(ctx, "FindPersonByPhone", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<std::string> phone = NormalizePhone(req->phone(), "phone");
    if (!phone.ok()) return phone.status();
    const std::string bucket = "phone-lookup:" + caller.who().subject;
    if (absl::Status s =
            TakeThrottle(bucket, kPhoneLookupsPerCaller, kPhoneLookupWindow, caller.now);
        !s.ok()) {
      return s;
    }
    const absl::Status not_found =
        absl::NotFoundError("no person you can see is registered with that phone number");
    return InReadTx("find person by phone", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result r = tx.exec_params(
          absl::StrCat("SELECT ", kPersonColumns, " FROM people WHERE phone_hash = $1"),
          pqxx::binarystring(secrets_->PhoneHash(*phone)));
      if (r.empty()) return not_found;
      absl::StatusOr<bool> covered = CoversPerson(tx, caller.who(), r[0][0].as<std::string>());
      if (!covered.ok()) return covered.status();
      if (!*covered) return not_found;
      FillPerson(tx, r[0], true, resp->mutable_person());
      return absl::OkStatus();
    });
  });
}

grpc::Status IdentityServiceImpl::UpdatePerson(grpc::ServerContext* ctx,
                                               const v1::UpdatePersonRequest* req,
                                               v1::UpdatePersonResponse* resp) {
  return Handle(ctx, "UpdatePerson", [&](const Caller& caller) -> absl::Status {
    if (req->person_id().empty()) return absl::InvalidArgumentError("person_id: is required");
    if (absl::Status s = CheckMask(req->update_mask(), {"display_name", "status"}); !s.ok())
      return s;
    const bool name = InMask(req->update_mask(), "display_name");
    const bool status = InMask(req->update_mask(), "status");
    if (name) {
      if (absl::Status s =
              text::CheckText(req->display_name(), "display_name", {.max = 32, .required = true});
          !s.ok())
        return s;
    }
    if (status) {
      if (req->status() == v1::PERSON_STATUS_UNSPECIFIED ||
          !v1::PersonStatus_IsValid(req->status())) {
        return absl::InvalidArgumentError("status: must be ACTIVE, SUSPENDED or CLOSED");
      }
      if (absl::Status s = text::CheckText(req->reason(), "reason", {.max = 200, .required = true});
          !s.ok())
        return s;
    }
    const std::string& me = caller.who().subject;
    // Checks the change against the person as it is now and, when `apply`, makes it.
    bool rider = false;
    const auto update = [&](pqxx::transaction_base& tx, bool apply) -> absl::Status {
      pqxx::result row = tx.exec_params(
          absl::StrCat("SELECT ", kPersonColumns, " FROM people WHERE person_id = $1 FOR UPDATE"),
          req->person_id());
      if (row.empty()) {
        return absl::NotFoundError(absl::StrCat("person_id: no person '", req->person_id(), "'"));
      }
      const PersonRow person = ReadPerson(row[0]);
      rider = person.is_rider;
      absl::StatusOr<bool> covered =
          CoversPerson(tx, caller.who(), person.person_id, /*for_write=*/true);
      if (!covered.ok()) return covered.status();
      if (!*covered) {
        return Refuse(absl::StatusCode::kPermissionDenied,
                      v1::IDENTITY_ERROR_REASON_OUTSIDE_ORG_SCOPE,
                      absl::StrCat("person ", person.person_id,
                                   " is outside the org nodes the caller's roles cover"));
      }
      if (person.status == v1::PERSON_STATUS_CLOSED) {
        return Refuse(absl::StatusCode::kFailedPrecondition,
                      v1::IDENTITY_ERROR_REASON_PERSON_NOT_ACTIVE, "the account is closed");
      }
      if (req->has_expected_update_time() &&
          Us(TimeOf(req->expected_update_time())) != row[0][10].as<int64_t>()) {
        return absl::AbortedError("the person changed since it was read; reload and retry");
      }
      if (status && req->status() != person.status) {
        if (person.person_id == me && req->status() != v1::PERSON_STATUS_ACTIVE) {
          return Refuse(absl::StatusCode::kFailedPrecondition,
                        v1::IDENTITY_ERROR_REASON_OWN_ACCOUNT,
                        "you cannot suspend or close your own account");
        }
        if (req->status() == v1::PERSON_STATUS_CLOSED) {
          // Closing takes a district-admin grant that itself covers the person.
          auth::Principal admin = caller.who();
          std::erase_if(admin.roles,
                        [](const auth::RoleGrant& g) { return g.role != ROLE_DISTRICT_ADMIN; });
          absl::StatusOr<bool> admin_covers =
              CoversPerson(tx, admin, person.person_id, /*for_write=*/true);
          if (!admin_covers.ok()) return admin_covers.status();
          if (admin.roles.empty() || !*admin_covers) {
            return Refuse(
                absl::StatusCode::kPermissionDenied,
                v1::IDENTITY_ERROR_REASON_DISTRICT_ADMIN_REQUIRED,
                "only a district admin whose district holds the person may close the account");
          }
        }
        if (!apply) return absl::OkStatus();
        tx.exec_params("UPDATE people SET status = $2, updated_at = now() WHERE person_id = $1",
                       person.person_id, static_cast<int>(req->status()));
        if (req->status() != v1::PERSON_STATUS_ACTIVE) {
          RevokeSessions(
              tx, person.person_id,
              req->status() == v1::PERSON_STATUS_CLOSED ? "account closed" : "account suspended",
              caller.now);
        }
        if (req->status() == v1::PERSON_STATUS_CLOSED) EraseAccount(tx, person.person_id, me);
        tx.exec_params(
            "INSERT INTO audit_events (actor, action, target, detail) VALUES ($1, $2, $3, $4)", me,
            absl::StrCat("set_status_", v1::PersonStatus_Name(req->status())), person.person_id,
            req->reason());
      }
      if (!apply) return absl::OkStatus();
      if (name && req->status() != v1::PERSON_STATUS_CLOSED) {
        tx.exec_params(
            "UPDATE people SET display_name = $2, updated_at = now() WHERE person_id = $1",
            person.person_id, req->display_name());
      }
      return FetchPerson(tx, person.person_id, true, resp->mutable_person());
    };
    if (status && req->status() == v1::PERSON_STATUS_CLOSED) {
      // A rider's orders end first, as when riders close their own account: checked, then
      // rewards asked, then closed (checked again). If rewards cannot, nothing is closed and the
      // admin may retry. (Should the close itself then fail, rewards already refuses the rider's
      // orders: the retry the admin is told to make finishes the job.)
      if (absl::Status s =
              InTx("check closing", [&](pqxx::transaction_base& tx) { return update(tx, false); });
          !s.ok()) {
        return s;
      }
      if (rider) {
        if (options_.rider_orders == nullptr) {
          return Refuse(absl::StatusCode::kFailedPrecondition,
                        v1::IDENTITY_ERROR_REASON_NOT_CONFIGURED,
                        "closing a rider's account needs rewards, and identity has no address "
                        "for it (rewards_addr)");
        }
        absl::StatusOr<int> cancelled = options_.rider_orders->CloseRiderOrders(req->person_id());
        if (!cancelled.ok()) return cancelled.status();
      }
    }
    return InTx("update person",
                [&](pqxx::transaction_base& tx) { return update(tx, /*apply=*/true); });
  });
}

grpc::Status IdentityServiceImpl::UpdateMyRiderProfile(grpc::ServerContext* ctx,
                                                       const v1::UpdateMyRiderProfileRequest* req,
                                                       v1::UpdateMyRiderProfileResponse* resp) {
  return Handle(ctx, "UpdateMyRiderProfile", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = CheckMask(req->update_mask(), {"display_name", "platform_accounts",
                                                        "ranking_name_choice", "nickname"});
        !s.ok()) {
      return s;
    }
    const bool name = InMask(req->update_mask(), "display_name");
    const bool accounts = InMask(req->update_mask(), "platform_accounts");
    const bool choice = InMask(req->update_mask(), "ranking_name_choice");
    const bool nickname = InMask(req->update_mask(), "nickname");
    if (choice && !v1::RankingNameChoice_IsValid(req->ranking_name_choice())) {
      return absl::InvalidArgumentError("ranking_name_choice: is not a RankingNameChoice");
    }
    if (choice && req->ranking_name_choice() == v1::RANKING_NAME_CHOICE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          "ranking_name_choice: is required (MASKED_NAME, NICKNAME or ANONYMOUS)");
    }
    if (nickname && !req->nickname().empty()) {
      if (absl::Status s = CheckNickname(req->nickname()); !s.ok()) return s;
    }
    if (name) {
      if (absl::Status s =
              text::CheckText(req->display_name(), "display_name", {.max = 32, .required = true});
          !s.ok())
        return s;
    }
    if (accounts) {
      if (req->platform_accounts_size() > 10) {
        return Refuse(absl::StatusCode::kResourceExhausted, v1::IDENTITY_ERROR_REASON_LIMIT_REACHED,
                      "platform_accounts: at most 10 accounts can be linked", {{"limit", "10"}});
      }
      if (absl::Status s = CheckRiderPlatformAccounts(req->platform_accounts()); !s.ok()) return s;
    }
    const std::string& me = caller.who().subject;
    return InTx("update my profile", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<PersonRow> person = LoadPerson(tx, me, /*lock=*/true);
      if (!person.ok()) return person.status();
      if (name) {
        tx.exec_params(
            "UPDATE people SET display_name = $2, updated_at = now() WHERE person_id = $1", me,
            req->display_name());
      }
      if (accounts) {
        if (absl::Status s = LinkPlatformAccounts(tx, me, req->platform_accounts()); !s.ok())
          return s;
        tx.exec_params("UPDATE people SET updated_at = now() WHERE person_id = $1", me);
      }
      if (choice || nickname) {
        const v1::RankingNameChoice new_choice =
            choice ? req->ranking_name_choice() : person->ranking_name_choice;
        const std::string& new_nickname = nickname ? req->nickname() : person->nickname;
        if (new_choice == v1::RANKING_NAME_CHOICE_NICKNAME && new_nickname.empty()) {
          return absl::InvalidArgumentError(
              nickname ? "nickname: is required while ranking_name_choice is NICKNAME"
                       : "ranking_name_choice: NICKNAME needs a nickname (set nickname too)");
        }
        tx.exec_params(
            "UPDATE people SET ranking_name_choice = $2, nickname = nullif($3, ''), "
            "updated_at = now() WHERE person_id = $1",
            me, static_cast<int>(new_choice), new_nickname);
      }
      return FetchPerson(tx, me, true, resp->mutable_person());
    });
  });
}

grpc::Status IdentityServiceImpl::GetMyPersonalData(grpc::ServerContext* ctx,
                                                    const v1::GetMyPersonalDataRequest*,
                                                    v1::GetMyPersonalDataResponse* resp) {
  return Handle(ctx, "GetMyPersonalData", [&](const Caller& caller) -> absl::Status {
    const std::string& me = caller.who().subject;
    return InReadTx("personal data", [&](pqxx::transaction_base& tx) -> absl::Status {
      if (absl::Status s = FetchPerson(tx, me, true, resp->mutable_person()); !s.ok()) return s;
      for (const auto& c :
           tx.exec_params("SELECT policy_version, purposes, us(consented_at) FROM consents "
                          "WHERE person_id = $1 ORDER BY consented_at",
                          me)) {
        v1::ConsentRecord* rec = resp->add_consents();
        rec->set_policy_version(c[0].as<std::string>());
        for (const std::string& p : ParseTextArray(c[1])) {
          rec->add_purposes(static_cast<v1::ConsentPurpose>(std::stoi(p)));
        }
        SetTime(rec->mutable_consent_time(), c[2]);
      }
      for (const auto& c :
           tx.exec_params(absl::StrCat("SELECT ", kCheckInColumns, " FROM ", kCheckInFrom,
                                       " WHERE ci.person_id = $1 ORDER BY ci.created_at DESC"),
                          me)) {
        FillCheckIn(c, resp->add_check_ins());
      }
      for (const auto& g :
           tx.exec_params(absl::StrCat("SELECT ", kGrantColumns, " FROM ", kGrantFrom,
                                       " WHERE g.person_id = $1 "
                                       "ORDER BY g.granted_at DESC"),
                          me)) {
        FillGrant(g, resp->add_role_grants());
      }
      for (const auto& s : tx.exec_params(
               "SELECT session_id, device_name, us(created_at), us(last_refresh_at), "
               "us(expires_at) FROM sessions WHERE person_id = $1 AND revoked_at IS NULL "
               "AND expires_at > now() ORDER BY created_at DESC",
               me)) {
        v1::Session* out = resp->add_sessions();
        out->set_session_id(s[0].as<std::string>());
        out->set_device_name(s[1].as<std::string>());
        SetTime(out->mutable_create_time(), s[2]);
        SetTime(out->mutable_last_refresh_time(), s[3]);
        SetTime(out->mutable_expire_time(), s[4]);
        out->set_current(out->session_id() == caller.who().session_id);
      }
      DescribeHeldData(resp);
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::identity
