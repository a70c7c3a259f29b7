// Governance posts (社区治理岗位): the kinds, posts with seats, and riders' claims on the seats.
// The rules are post_rules.h's and review_rules.h's; the SQL is PgPostStore's and post_records.h's.
#include <pqxx/pqxx>

#include <set>

#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "common/labels/label_catalogue.h"
#include "common/pg/paging.h"
#include "common/pg/sql_values.h"
#include "common/status/status_macros.h"
#include "services/activity/activity_events.h"
#include "services/activity/activity_service.h"
#include "services/activity/directory.h"
#include "services/activity/post_records.h"
#include "services/activity/post_rules.h"
#include "services/activity/review_rules.h"

namespace civicpoints::activity {

using common::v1::ROLE_COMMUNITY_STAFF;
using common::v1::ROLE_STREET_STAFF;

namespace {

// What a rider on each post does, for the help screen. The kinds' names are the label catalogue's
// (common/labels), as for every enum.
struct KindInfo {
  v1::PostKind kind;
  const char* description;
};

constexpr KindInfo kKinds[] = {
    {v1::POST_KIND_MOBILE_GRID_MONITOR,
     "在配送途中留意社区网格内的安全隐患、环境问题和需要帮助的居民，及时上报社区。"},
    {v1::POST_KIND_CIVILITY_ADVOCATE,
     "宣传文明城市创建，倡导文明出行、垃圾分类和文明用语，劝导不文明行为。"},
    {v1::POST_KIND_SAFETY_PATROLLER,
     "巡查违章搭建、消防通道堵塞、电动车违规充电等安全隐患，发现后及时报告。"},
    {v1::POST_KIND_DISPUTE_MEDIATOR, "协助社区调解邻里纠纷和配送相关矛盾，促进和睦相处。"},
    {v1::POST_KIND_ELDERLY_HELPER, "走访社区独居和高龄老人，帮助代购、送餐和解决生活中的小困难。"},
};

// The catalogue's label of `kind` in `locale` ("" if it had none, which its test rules out).
std::string KindLabel(v1::PostKind kind, labels::Locale locale) {
  const google::protobuf::EnumValueDescriptor* value =
      v1::PostKind_descriptor()->FindValueByNumber(kind);
  const std::string* label =
      value == nullptr ? nullptr : labels::LabelCatalogue::Builtin().Label(*value, locale);
  return label == nullptr ? "" : *label;
}

bool ValidKind(v1::PostKind kind) {
  return kind != v1::POST_KIND_UNSPECIFIED && v1::PostKind_IsValid(kind);
}

absl::Status CheckSeats(int32_t seats) {
  if (seats < 1 || seats > 500) {
    return absl::InvalidArgumentError(
        absl::StrCat("post.seats_total: must be 1–500 (got ", seats, ")"));
  }
  return absl::OkStatus();
}

absl::Status WrongState(absl::string_view message) {
  return Refuse(absl::StatusCode::kFailedPrecondition, v1::ACTIVITY_ERROR_REASON_WRONG_STATE,
                message);
}

absl::Status NoSuchClaim(const std::string& post_id, const std::string& claim_id) {
  return absl::NotFoundError(
      absl::StrCat("claim '", claim_id, "' does not exist on post '", post_id, "'"));
}

// Post and claim ids both given.
absl::Status CheckIds(const std::string& post_id, const std::string& claim_id) {
  if (post_id.empty()) return absl::InvalidArgumentError("post_id: is required");
  if (claim_id.empty()) return absl::InvalidArgumentError("claim_id: is required");
  return absl::OkStatus();
}

// The staff scope check of a post-changing call: community or street staff covering the post.
absl::Status CheckPostScope(const Caller& caller, const v1::Post& post) {
  return CheckCovers(caller.who(), post.org_path(), absl::StrCat("post ", post.post_id()),
                     {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF});
}

}  // namespace

grpc::Status ActivityServiceImpl::ListPostKinds(grpc::ServerContext* ctx,
                                                const v1::ListPostKindsRequest* /*req*/,
                                                v1::ListPostKindsResponse* resp) {
  return Handle(ctx, "ListPostKinds", [&](const Caller&) -> absl::Status {
    for (const KindInfo& k : kKinds) {
      v1::PostKindInfo* info = resp->add_kinds();
      info->set_kind(k.kind);
      info->set_display_name_zh(KindLabel(k.kind, labels::Locale::kZhCn));
      info->set_display_name_en(KindLabel(k.kind, labels::Locale::kEn));
      info->set_description_zh(k.description);
    }
    return absl::OkStatus();
  });
}

grpc::Status ActivityServiceImpl::CreatePost(grpc::ServerContext* ctx,
                                             const v1::CreatePostRequest* req,
                                             v1::CreatePostResponse* resp) {
  return Handle(ctx, "CreatePost", [&](const Caller& caller) -> absl::Status {
    const v1::Post& p = req->post();
    if (!ValidKind(p.kind())) return absl::InvalidArgumentError("post.kind: is unspecified");
    if (absl::Status s = text::CheckText(p.title(), "post.title", {.max = 60, .required = true});
        !s.ok())
      return s;
    if (absl::Status s = text::CheckText(p.description(), "post.description",
                                         {.max = 1000, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    if (absl::Status s = CheckSeats(p.seats_total()); !s.ok()) return s;
    if (p.community_id().empty()) {
      return absl::InvalidArgumentError("post.community_id: is required");
    }
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    absl::StatusOr<OrgInfo> org = directory_->Org(p.community_id(), "post.community_id");
    if (!org.ok()) return org.status();
    if (org->level != common::v1::ORG_LEVEL_COMMUNITY) {
      return Refuse(absl::StatusCode::kFailedPrecondition,
                    v1::ACTIVITY_ERROR_REASON_WRONG_ORG_LEVEL,
                    absl::StrCat("post.community_id: '", org->org_id, "' is not a community"),
                    {{"org_id", org->org_id}, {"level", common::v1::OrgLevel_Name(org->level)}});
    }
    if (absl::Status s =
            CheckCovers(caller.who(), org->path, absl::StrCat("community ", org->org_id),
                        {ROLE_COMMUNITY_STAFF, ROLE_STREET_STAFF});
        !s.ok()) {
      return s;
    }
    return Idempotent(caller, "CreatePost", req->idempotency_key(), *req, resp,
                      [&](pqxx::transaction_base& tx) -> absl::Status {
                        v1::Post draft = p;
                        draft.set_post_id(NewId("post"));
                        common::v1::OrgPath path = org->path;
                        path.set_community_id(org->org_id);
                        posts_.Insert(tx, draft, path, caller.id(), caller.now);
                        ASSIGN_OR_RETURN(*resp->mutable_post(),
                                         LoadPost(tx, draft.post_id(), false));
                        return absl::OkStatus();
                      });
  });
}

grpc::Status ActivityServiceImpl::GetPost(grpc::ServerContext* ctx, const v1::GetPostRequest* req,
                                          v1::GetPostResponse* resp) {
  return Handle(ctx, "GetPost", [&](const Caller& caller) -> absl::Status {
    if (req->post_id().empty()) return absl::InvalidArgumentError("post_id: is required");
    return InReadTx("get post", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Post> post = LoadPost(tx, req->post_id(), false);
      if (!post.ok()) return post.status();
      if (caller.is_staff() && !caller.is_rider()) {
        if (absl::Status s =
                CheckCovers(caller.who(), post->org_path(), absl::StrCat("post ", post->post_id()));
            !s.ok()) {
          return s;
        }
      }
      if (caller.is_rider()) {
        if (std::optional<v1::PostClaim> mine =
                posts_.LatestClaimOf(tx, post->post_id(), caller.id())) {
          *resp->mutable_my_claim() = *std::move(mine);
        }
      }
      *resp->mutable_post() = *std::move(post);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::UpdatePost(grpc::ServerContext* ctx,
                                             const v1::UpdatePostRequest* req,
                                             v1::UpdatePostResponse* resp) {
  return Handle(ctx, "UpdatePost", [&](const Caller& caller) -> absl::Status {
    if (req->post_id().empty()) return absl::InvalidArgumentError("post_id: is required");
    if (req->update_mask().paths().empty()) {
      return absl::InvalidArgumentError("update_mask: names no field");
    }
    const v1::Post& in = req->post();
    std::set<std::string> paths;
    for (const std::string& path : req->update_mask().paths()) {
      if (path == "title") {
        if (absl::Status s =
                text::CheckText(in.title(), "post.title", {.max = 60, .required = true});
            !s.ok())
          return s;
      } else if (path == "description") {
        if (absl::Status s = text::CheckText(in.description(), "post.description",
                                             {.max = 1000, .lines = text::Lines::kMany});
            !s.ok()) {
          return s;
        }
      } else if (path == "seats_total") {
        if (absl::Status s = CheckSeats(in.seats_total()); !s.ok()) return s;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "update_mask: '", path, "' cannot be updated (title, description, seats_total)"));
      }
      paths.insert(path);
    }
    return InTx("update post", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Post> cur = LoadPost(tx, req->post_id(), true);
      if (!cur.ok()) return cur.status();
      if (absl::Status s = CheckPostScope(caller, *cur); !s.ok()) return s;
      if (!req->etag().empty() && req->etag() != cur->etag()) {
        return Refuse(absl::StatusCode::kAborted, v1::ACTIVITY_ERROR_REASON_ETAG_MISMATCH,
                      absl::StrCat("etag: the post changed since '", req->etag(), "' (now ",
                                   cur->etag(), "); read it again"));
      }
      v1::Post next = *cur;
      if (paths.count("title")) next.set_title(in.title());
      if (paths.count("description")) next.set_description(in.description());
      if (paths.count("seats_total")) next.set_seats_total(in.seats_total());
      RETURN_IF_ERROR(CheckSeatsTotal(next.seats_total(), cur->seats_taken()));
      if (next.title() != cur->title() || next.description() != cur->description() ||
          next.seats_total() != cur->seats_total()) {
        posts_.Update(tx, next, caller.now);
      }
      absl::StatusOr<v1::Post> after = LoadPost(tx, next.post_id(), false);
      if (!after.ok()) return after.status();
      *resp->mutable_post() = *std::move(after);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ClosePost(grpc::ServerContext* ctx,
                                            const v1::ClosePostRequest* req,
                                            v1::ClosePostResponse* resp) {
  return Handle(ctx, "ClosePost", [&](const Caller& caller) -> absl::Status {
    if (req->post_id().empty()) return absl::InvalidArgumentError("post_id: is required");
    return InTx("close post", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Post> cur = LoadPost(tx, req->post_id(), true);
      if (!cur.ok()) return cur.status();
      if (absl::Status s = CheckPostScope(caller, *cur); !s.ok()) return s;
      if (cur->status() != v1::POST_STATUS_CLOSED) {
        // Pending claims are turned down; approved riders keep their seats until withdrawn.
        posts_.Close(tx, cur->post_id(), caller.id(), caller.now);
      }
      absl::StatusOr<v1::Post> after = LoadPost(tx, cur->post_id(), false);
      if (!after.ok()) return after.status();
      *resp->mutable_post() = *std::move(after);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ListPosts(grpc::ServerContext* ctx,
                                            const v1::ListPostsRequest* req,
                                            v1::ListPostsResponse* resp) {
  return Handle(ctx, "ListPosts", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<pg::Paging> paging = pg::StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    if (req->org_id().empty()) return absl::InvalidArgumentError("org_id: is required");
    if (!v1::PostKind_IsValid(req->kind()) || !v1::PostStatus_IsValid(req->status())) {
      return absl::InvalidArgumentError("kind or status: is unknown");
    }
    absl::StatusOr<OrgInfo> org = directory_->Org(req->org_id(), "org_id");
    if (!org.ok()) return org.status();
    if (caller.is_staff() && !caller.is_rider()) {
      if (absl::Status s =
              CheckCovers(caller.who(), org->path, absl::StrCat("org node ", org->org_id));
          !s.ok()) {
        return s;
      }
    }
    const int status = req->status() == v1::POST_STATUS_UNSPECIFIED
                           ? static_cast<int>(v1::POST_STATUS_OPEN)
                           : static_cast<int>(req->status());
    const char* column = PostLevelColumn(org->level);
    return InReadTx("list posts", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result rows = tx.exec_params(
          absl::StrCat(kPostSelect, " WHERE ", column ? column : "$1::text", " = $1::text",
                       " AND ($2 = 0 OR p.kind = $2) AND p.status = $3"
                       " AND (NOT $4 OR p.seats_taken < p.seats_total)"
                       " AND ($5::bigint = 0 OR (us(p.created_at), p.post_id) < ($5::bigint, $6))"
                       " ORDER BY p.created_at DESC, p.post_id DESC LIMIT $7"),
          org->org_id, static_cast<int>(req->kind()), status, req->only_with_free_seats(),
          paging->after_us(), paging->after_id(), paging->size + 1);
      resp->set_next_page_token(pg::FillPage(
          rows, *paging, 11, [&](const pqxx::row& row) { FillPost(row, resp->add_posts()); }));
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ClaimPost(grpc::ServerContext* ctx,
                                            const v1::ClaimPostRequest* req,
                                            v1::ClaimPostResponse* resp) {
  return Handle(ctx, "ClaimPost", [&](const Caller& caller) -> absl::Status {
    if (req->post_id().empty()) return absl::InvalidArgumentError("post_id: is required");
    if (absl::Status s =
            text::CheckText(req->note(), "note", {.max = 200, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    if (absl::Status s = text::CheckIdempotencyKey(req->idempotency_key()); !s.ok()) return s;
    // Where the rider is checked in, asked of identity before the transaction (no network call
    // while the post is locked).
    absl::StatusOr<std::vector<RiderInfo>> me = directory_->Riders({caller.id()});
    if (!me.ok()) return me.status();
    const std::string home = me->empty() ? "" : (*me)[0].home.community_id();
    return Idempotent(
        caller, "ClaimPost", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          // The post's row lock orders every seat change on it.
          absl::StatusOr<v1::Post> post = LoadPost(tx, req->post_id(), true);
          if (!post.ok()) return post.status();
          const std::string& id = post->post_id();
          RETURN_IF_ERROR(CheckClaim(*post, home, posts_.LiveClaimOf(tx, id, caller.id(), false)));
          const std::string claim_id = NewId("claim");
          posts_.OpenClaim(tx, claim_id, id, caller.id(), req->note(), caller.now);
          *resp->mutable_claim() = *LoadClaim(tx, id, claim_id, false);
          absl::StatusOr<v1::Post> after = LoadPost(tx, id, false);
          if (!after.ok()) return after.status();
          *resp->mutable_post() = *std::move(after);
          return absl::OkStatus();
        });
  });
}

grpc::Status ActivityServiceImpl::ApprovePostClaim(grpc::ServerContext* ctx,
                                                   const v1::ApprovePostClaimRequest* req,
                                                   v1::ApprovePostClaimResponse* resp) {
  return Handle(ctx, "ApprovePostClaim", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = CheckIds(req->post_id(), req->claim_id()); !s.ok()) return s;
    return InTx("approve post claim", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Post> post = LoadPost(tx, req->post_id(), true);
      if (!post.ok()) return post.status();
      if (absl::Status s = CheckPostScope(caller, *post); !s.ok()) return s;
      std::optional<v1::PostClaim> claim = LoadClaim(tx, post->post_id(), req->claim_id(), true);
      if (!claim) return NoSuchClaim(post->post_id(), req->claim_id());
      switch (DecideReview(caller.id(), claim->rider_id(), claim->status(),
                           v1::POST_CLAIM_STATUS_PENDING, v1::POST_CLAIM_STATUS_APPROVED)) {
        case ReviewStep::kOwnSubmission:
          return Refuse(absl::StatusCode::kPermissionDenied,
                        v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION,
                        "staff cannot approve their own claim");
        case ReviewStep::kAlreadyDone:
          *resp->mutable_claim() = *std::move(claim);
          return absl::OkStatus();
        case ReviewStep::kWrongState:
          return WrongState(absl::StrCat("claim ", claim->claim_id(), " is ",
                                         v1::PostClaimStatus_Name(claim->status()),
                                         "; only a pending claim can be approved"));
        case ReviewStep::kApply:
          break;
      }
      posts_.DecideClaim(tx, post->post_id(), claim->claim_id(), v1::POST_CLAIM_STATUS_APPROVED, "",
                         caller.id(), caller.now);
      RETURN_IF_ERROR(RecordClaimDecided(tx, claim->claim_id(), post->post_id(), claim->rider_id(),
                                         v1::POST_CLAIM_STATUS_APPROVED, caller.id(),
                                         post->org_path()));
      *resp->mutable_claim() = *LoadClaim(tx, post->post_id(), claim->claim_id(), false);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::RejectPostClaim(grpc::ServerContext* ctx,
                                                  const v1::RejectPostClaimRequest* req,
                                                  v1::RejectPostClaimResponse* resp) {
  return Handle(ctx, "RejectPostClaim", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = CheckIds(req->post_id(), req->claim_id()); !s.ok()) return s;
    if (absl::Status s = text::CheckText(
            req->reason(), "reason", {.max = 500, .required = true, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    return InTx("reject post claim", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Post> post = LoadPost(tx, req->post_id(), true);
      if (!post.ok()) return post.status();
      if (absl::Status s = CheckPostScope(caller, *post); !s.ok()) return s;
      std::optional<v1::PostClaim> claim = LoadClaim(tx, post->post_id(), req->claim_id(), true);
      if (!claim) return NoSuchClaim(post->post_id(), req->claim_id());
      switch (DecideReview(caller.id(), claim->rider_id(), claim->status(),
                           v1::POST_CLAIM_STATUS_PENDING, v1::POST_CLAIM_STATUS_REJECTED)) {
        case ReviewStep::kOwnSubmission:
          return Refuse(absl::StatusCode::kPermissionDenied,
                        v1::ACTIVITY_ERROR_REASON_SELF_CONFIRMATION,
                        "staff cannot decide their own claim");
        case ReviewStep::kAlreadyDone:
          *resp->mutable_claim() = *std::move(claim);
          return absl::OkStatus();
        case ReviewStep::kWrongState:
          return WrongState(absl::StrCat("claim ", claim->claim_id(), " is ",
                                         v1::PostClaimStatus_Name(claim->status()),
                                         claim->status() == v1::POST_CLAIM_STATUS_APPROVED
                                             ? "; remove an approved rider with WithdrawPostClaim"
                                             : "; only a pending claim can be rejected"));
        case ReviewStep::kApply:
          break;
      }
      posts_.DecideClaim(tx, post->post_id(), claim->claim_id(), v1::POST_CLAIM_STATUS_REJECTED,
                         req->reason(), caller.id(), caller.now);
      RETURN_IF_ERROR(RecordClaimDecided(tx, claim->claim_id(), post->post_id(), claim->rider_id(),
                                         v1::POST_CLAIM_STATUS_REJECTED, caller.id(),
                                         post->org_path()));
      *resp->mutable_claim() = *LoadClaim(tx, post->post_id(), claim->claim_id(), false);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::WithdrawPostClaim(grpc::ServerContext* ctx,
                                                    const v1::WithdrawPostClaimRequest* req,
                                                    v1::WithdrawPostClaimResponse* resp) {
  return Handle(ctx, "WithdrawPostClaim", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = CheckIds(req->post_id(), req->claim_id()); !s.ok()) return s;
    if (absl::Status s =
            text::CheckText(req->reason(), "reason", {.max = 500, .lines = text::Lines::kMany});
        !s.ok())
      return s;
    const absl::Status no_reason =
        absl::InvalidArgumentError("reason: is required when staff remove a rider");
    // A caller who is only staff always removes someone else; a staff member who also rides
    // is told apart once the claim is read.
    if (!caller.is_rider() && req->reason().empty()) return no_reason;
    return InTx("withdraw post claim", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<v1::Post> post = LoadPost(tx, req->post_id(), true);
      if (!post.ok()) return post.status();
      std::optional<v1::PostClaim> claim = LoadClaim(tx, post->post_id(), req->claim_id(), true);
      if (!claim) return NoSuchClaim(post->post_id(), req->claim_id());
      const bool own = claim->rider_id() == caller.id();
      if (!own) {
        // Another rider's claim does not exist as far as a rider can tell.
        if (!caller.is_staff()) return NoSuchClaim(post->post_id(), req->claim_id());
        if (absl::Status s = CheckPostScope(caller, *post); !s.ok()) return s;
        if (req->reason().empty()) return no_reason;
      }
      switch (DecideWithdraw(claim->status())) {
        case WithdrawStep::kAlreadyDone:
          *resp->mutable_claim() = *std::move(claim);
          return absl::OkStatus();
        case WithdrawStep::kWrongState:
          return WrongState(absl::StrCat("claim ", claim->claim_id(), " was rejected"));
        case WithdrawStep::kApply:
          break;
      }
      posts_.DecideClaim(tx, post->post_id(), claim->claim_id(), v1::POST_CLAIM_STATUS_WITHDRAWN,
                         req->reason(), own ? std::string() : caller.id(), caller.now);
      *resp->mutable_claim() = *LoadClaim(tx, post->post_id(), claim->claim_id(), false);
      return absl::OkStatus();
    });
  });
}

grpc::Status ActivityServiceImpl::ListPostClaims(grpc::ServerContext* ctx,
                                                 const v1::ListPostClaimsRequest* req,
                                                 v1::ListPostClaimsResponse* resp) {
  return Handle(ctx, "ListPostClaims", [&](const Caller& caller) -> absl::Status {
    absl::StatusOr<pg::Paging> paging = pg::StartPaging(*req, 2);
    if (!paging.ok()) return paging.status();
    if (req->post_id().empty()) return absl::InvalidArgumentError("post_id: is required");
    const bool staff = caller.is_staff();
    const std::string rider = staff ? req->rider_id() : caller.id();
    const bool any_post = req->post_id() == "-";
    if (any_post && req->org_id().empty() && rider.empty()) {
      return absl::InvalidArgumentError("org_id or rider_id: is required when post_id is \"-\"");
    }
    if (!v1::PostClaimStatus_IsValid(req->status())) {
      return absl::InvalidArgumentError("status: is unknown");
    }
    absl::StatusOr<std::optional<OrgInfo>> org =
        PostListingOrg(*directory_, caller, any_post, req->org_id());
    if (!org.ok()) return org.status();
    return InReadTx("list post claims", [&](pqxx::transaction_base& tx) -> absl::Status {
      absl::StatusOr<PostListingFilter> filter =
          PostListingWhere(tx, caller, req->post_id(), *org, "c.post_id");
      if (!filter.ok()) return filter.status();
      pqxx::result rows = tx.exec_params(
          absl::StrCat(kClaimSelect, " WHERE ", filter->where,
                       " AND ($2 = '' OR c.rider_id = $2) AND ($3 = 0 OR c.status = $3)"
                       " AND ($4 OR p.district_id = ANY($5::text[]) OR"
                       " p.street_id = ANY($5::text[]) OR p.community_id = ANY($5::text[]))"
                       " AND ($6::bigint = 0 OR (us(c.created_at), c.claim_id) > ($6::bigint, $7))"
                       " ORDER BY c.created_at, c.claim_id LIMIT $8"),
          filter->first_param, rider, static_cast<int>(req->status()), !filter->scope.has_value(),
          pg::TextArray(filter->scope.value_or(std::vector<std::string>{})), paging->after_us(),
          paging->after_id(), paging->size + 1);
      resp->set_next_page_token(pg::FillPage(
          rows, *paging, 11, [&](const pqxx::row& row) { FillClaim(row, resp->add_claims()); }));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::activity
