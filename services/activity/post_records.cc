#include "services/activity/post_records.h"

#include <optional>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "services/activity/awards.h"
#include "services/activity/support.h"

namespace civicpoints::activity {

const char kPostSelect[] =
    "SELECT p.post_id, p.community_id, p.street_id, p.district_id, p.kind, p.title, "
    "p.description, p.seats_total, p.seats_taken, p.status, p.created_by, us(p.created_at), "
    "us(p.updated_at), p.version FROM posts p";

void FillPost(const pqxx::row& row, v1::Post* out) {
  out->set_post_id(row[0].as<std::string>());
  out->set_community_id(row[1].as<std::string>());
  out->mutable_org_path()->set_community_id(row[1].as<std::string>());
  out->mutable_org_path()->set_street_id(row[2].as<std::string>());
  out->mutable_org_path()->set_district_id(row[3].as<std::string>());
  out->set_kind(static_cast<v1::PostKind>(row[4].as<int>()));
  out->set_title(row[5].as<std::string>());
  out->set_description(row[6].as<std::string>());
  out->set_seats_total(row[7].as<int>());
  out->set_seats_taken(row[8].as<int>());
  out->set_status(static_cast<v1::PostStatus>(row[9].as<int>()));
  out->set_created_by(row[10].as<std::string>());
  SetTime(out->mutable_create_time(), row[11].as<int64_t>());
  SetTime(out->mutable_update_time(), row[12].as<int64_t>());
  out->set_etag(absl::StrCat("v", row[13].as<int64_t>()));
}

absl::StatusOr<v1::Post> LoadPost(pqxx::transaction_base& tx, const std::string& id, bool lock) {
  if (id.empty()) return absl::InvalidArgumentError("post_id: is required");
  pqxx::result r = tx.exec_params(
      absl::StrCat(kPostSelect, " WHERE p.post_id = $1", lock ? " FOR UPDATE" : ""), id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("post '", id, "' does not exist"));
  v1::Post post;
  FillPost(r[0], &post);
  return post;
}

const char kClaimSelect[] =
    "SELECT c.claim_id, c.post_id, p.kind, c.rider_id, p.district_id, p.street_id, "
    "p.community_id, c.status, c.note, c.reason, c.decided_by, us(c.created_at), "
    "COALESCE(us(c.decided_at), 0) FROM post_claims c JOIN posts p USING (post_id)";

void FillClaim(const pqxx::row& row, v1::PostClaim* out) {
  out->set_claim_id(row[0].as<std::string>());
  out->set_post_id(row[1].as<std::string>());
  out->set_post_kind(static_cast<v1::PostKind>(row[2].as<int>()));
  out->set_rider_id(row[3].as<std::string>());
  out->mutable_org_path()->set_district_id(row[4].as<std::string>());
  out->mutable_org_path()->set_street_id(row[5].as<std::string>());
  out->mutable_org_path()->set_community_id(row[6].as<std::string>());
  out->set_status(static_cast<v1::PostClaimStatus>(row[7].as<int>()));
  out->set_note(row[8].as<std::string>());
  out->set_reason(row[9].as<std::string>());
  out->set_decided_by(row[10].as<std::string>());
  SetTime(out->mutable_create_time(), row[11].as<int64_t>());
  if (row[12].as<int64_t>() != 0) SetTime(out->mutable_decide_time(), row[12].as<int64_t>());
}

std::optional<v1::PostClaim> LoadClaim(pqxx::transaction_base& tx, const std::string& post_id,
                                       const std::string& claim_id, bool lock) {
  pqxx::result r =
      tx.exec_params(absl::StrCat(kClaimSelect, " WHERE c.post_id = $1 AND c.claim_id = $2",
                                  lock ? " FOR UPDATE OF c" : ""),
                     post_id, claim_id);
  if (r.empty()) return std::nullopt;
  v1::PostClaim claim;
  FillClaim(r[0], &claim);
  return claim;
}

const char kShiftSelect[] =
    "SELECT s.shift_id, s.post_id, s.claim_id, p.kind, s.rider_id, p.district_id, p.street_id, "
    "p.community_id, us(s.start_at), us(s.end_at), s.summary, s.latitude, s.longitude, "
    "s.attachment_refs, s.status, s.reject_reason, s.reviewed_by, us(s.created_at), "
    "COALESCE(us(s.reviewed_at), 0) FROM duty_shifts s JOIN posts p USING (post_id)";

void FillShift(pqxx::transaction_base& tx, const pqxx::row& row, bool for_staff,
               v1::DutyShift* out) {
  out->set_shift_id(row[0].as<std::string>());
  out->set_post_id(row[1].as<std::string>());
  out->set_claim_id(row[2].as<std::string>());
  out->set_post_kind(static_cast<v1::PostKind>(row[3].as<int>()));
  out->set_rider_id(row[4].as<std::string>());
  out->mutable_org_path()->set_district_id(row[5].as<std::string>());
  out->mutable_org_path()->set_street_id(row[6].as<std::string>());
  out->mutable_org_path()->set_community_id(row[7].as<std::string>());
  SetTime(out->mutable_start_time(), row[8].as<int64_t>());
  SetTime(out->mutable_end_time(), row[9].as<int64_t>());
  out->set_summary(row[10].as<std::string>());
  if (!row[11].is_null()) {
    out->mutable_location()->set_latitude(row[11].as<double>());
    out->mutable_location()->set_longitude(row[12].as<double>());
  }
  auto refs = row[13].as_array();
  for (auto item = refs.get_next(); item.first != pqxx::array_parser::done;
       item = refs.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out->add_attachment_refs(item.second);
  }
  out->set_status(static_cast<v1::DutyShiftStatus>(row[14].as<int>()));
  out->set_reject_reason(row[15].as<std::string>());
  out->set_reviewed_by(row[16].as<std::string>());
  SetTime(out->mutable_create_time(), row[17].as<int64_t>());
  if (row[18].as<int64_t>() != 0) SetTime(out->mutable_review_time(), row[18].as<int64_t>());
  if (out->status() == v1::DUTY_SHIFT_STATUS_CONFIRMED) {
    if (std::optional<v1::Award> award = FindAward(tx, v1::AWARD_SOURCE_KIND_POST_SHIFT,
                                                   out->shift_id(), out->rider_id(), for_staff)) {
      *out->mutable_award() = *std::move(award);
    }
  }
}

std::optional<v1::DutyShift> LoadShift(pqxx::transaction_base& tx, const std::string& post_id,
                                       const std::string& shift_id, bool lock, bool for_staff) {
  pqxx::result r =
      tx.exec_params(absl::StrCat(kShiftSelect, " WHERE s.post_id = $1 AND s.shift_id = $2",
                                  lock ? " FOR UPDATE OF s" : ""),
                     post_id, shift_id);
  if (r.empty()) return std::nullopt;
  v1::DutyShift shift;
  FillShift(tx, r[0], for_staff, &shift);
  return shift;
}

std::optional<std::vector<std::string>> ScopeNodes(const auth::Principal& who) {
  std::vector<std::string> nodes;
  for (const auth::RoleGrant& g : who.roles) {
    if (g.role == common::v1::ROLE_INTERNAL_SERVICE) return std::nullopt;
    if (g.role == common::v1::ROLE_RIDER) continue;
    if (g.org_id.empty() || g.org_id == "root") return std::nullopt;
    nodes.push_back(g.org_id);
  }
  return nodes;
}

const char* PostLevelColumn(common::v1::OrgLevel level) {
  switch (level) {
    case common::v1::ORG_LEVEL_DISTRICT:
      return "p.district_id";
    case common::v1::ORG_LEVEL_STREET:
      return "p.street_id";
    case common::v1::ORG_LEVEL_COMMUNITY:
      return "p.community_id";
    default:
      return nullptr;  // the city: everything
  }
}

absl::StatusOr<std::optional<OrgInfo>> PostListingOrg(Directory& directory, const Caller& caller,
                                                      bool any_post, const std::string& org_id) {
  if (!any_post || org_id.empty()) return std::optional<OrgInfo>();
  absl::StatusOr<OrgInfo> org = directory.Org(org_id, "org_id");
  if (!org.ok()) return org.status();
  if (caller.is_staff()) {
    if (absl::Status s = CheckCovers(caller.who(), org->path, absl::StrCat("org node ", org_id));
        !s.ok()) {
      return s;
    }
  }
  return std::optional<OrgInfo>(*std::move(org));
}

absl::StatusOr<PostListingFilter> PostListingWhere(pqxx::transaction_base& tx, const Caller& caller,
                                                   const std::string& post_id,
                                                   const std::optional<OrgInfo>& org,
                                                   const char* post_column) {
  PostListingFilter filter;
  const bool staff = caller.is_staff();
  if (post_id != "-") {
    absl::StatusOr<v1::Post> post = LoadPost(tx, post_id, false);
    if (!post.ok()) return post.status();
    if (staff) {
      if (absl::Status s =
              CheckCovers(caller.who(), post->org_path(), absl::StrCat("post ", post->post_id()));
          !s.ok()) {
        return s;
      }
    }
    filter.where = absl::StrCat(post_column, " = $1");
    filter.first_param = post_id;
  } else if (org) {
    const char* column = PostLevelColumn(org->level);
    filter.where = absl::StrCat(column ? column : "$1::text", " = $1::text");
    filter.first_param = org->org_id;
  } else {
    filter.where = "$1::text = $1::text";
    filter.first_param.assign(1, '-');  // (a literal assignment trips GCC 12 -Wrestrict)
    // A staff member's query by rider alone shows what is in their scope.
    if (staff) filter.scope = ScopeNodes(caller.who());
  }
  return filter;
}

}  // namespace civicpoints::activity
