// The gift catalog: CreateGift, GetGift, ListGifts, UpdateGift, ListGiftAvailability. The SQL is
// PgCatalogStore's.
#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/text.h"
#include "services/rewards/access.h"
#include "services/rewards/pg_catalog_store.h"
#include "services/rewards/records.h"
#include "services/rewards/rewards_service.h"

namespace civicpoints::rewards {

using common::v1::ORG_LEVEL_DISTRICT;
using common::v1::ORG_LEVEL_STREET;

namespace {

absl::Status CheckGiftFields(const std::string& name, const std::string& description,
                             const std::string& image_uri, v1::GiftCategory category,
                             int64_t points_cost) {
  RETURN_IF_ERROR(text::CheckText(name, "name", {.max = 60, .required = true}));
  RETURN_IF_ERROR(
      text::CheckText(description, "description", {.max = 1000, .lines = text::Lines::kMany}));
  RETURN_IF_ERROR(text::CheckText(image_uri, "image_uri", {.max = 2048}));
  if (category == v1::GIFT_CATEGORY_UNSPECIFIED || !v1::GiftCategory_IsValid(category)) {
    return absl::InvalidArgumentError("category: is required (one of GIFT_CATEGORY_*)");
  }
  if (points_cost < 1 || points_cost > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("points_cost: must be 1–1,000,000, got ", points_cost));
  }
  return absl::OkStatus();
}

absl::Status CheckNameFree(pqxx::transaction_base& tx, const std::string& owner,
                           const std::string& name, const std::string& except_id) {
  if (std::optional<std::string> taken = PgCatalogStore().NameTaken(tx, owner, name, except_id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("name: org ", owner, " already has a gift named '", name, "' (", *taken, ")"));
  }
  return absl::OkStatus();
}

// Loads a gift (FOR UPDATE when `lock`); riders do not see inactive gifts. Errors: NOT_FOUND.
absl::StatusOr<PgCatalogStore::GiftRow> LoadGift(pqxx::transaction_base& tx,
                                                 const std::string& gift_id, bool rider,
                                                 bool lock) {
  std::optional<PgCatalogStore::GiftRow> row = PgCatalogStore().Load(tx, gift_id, lock);
  if (!row || (rider && !row->gift.active())) {
    return absl::NotFoundError(absl::StrCat("gift ", gift_id, " does not exist"));
  }
  return *std::move(row);
}

}  // namespace

grpc::Status RewardsServiceImpl::CreateGift(grpc::ServerContext* ctx,
                                            const v1::CreateGiftRequest* req,
                                            v1::CreateGiftResponse* resp) {
  return Handle(ctx, "CreateGift", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckGiftFields(req->name(), req->description(), req->image_uri(),
                                    req->category(), req->points_cost()));
    RETURN_IF_ERROR(CheckId(req->owner_org_id(), "owner_org_id"));
    RETURN_IF_ERROR(text::CheckIdempotencyKey(req->idempotency_key()));
    absl::StatusOr<OrgInfo> org = directory_->GetOrg(req->owner_org_id());
    if (!org.ok()) {
      if (org.status().code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(
            absl::StrCat("owner_org_id: ", req->owner_org_id(), " is not an org node"));
      }
      return org.status();
    }
    if (org->level != ORG_LEVEL_STREET && org->level != ORG_LEVEL_DISTRICT) {
      return Refuse(
          absl::StatusCode::kFailedPrecondition, v1::ERROR_REASON_WRONG_ORG_LEVEL,
          absl::StrCat("owner_org_id: ", req->owner_org_id(), " is not a street or district"),
          {{"org_id", req->owner_org_id()}, {"level", common::v1::OrgLevel_Name(org->level)}});
    }
    RETURN_IF_ERROR(CheckCovers(caller.who(), org->path, "owner_org_id"));
    return Idempotent(caller.who(), "CreateGift", req->idempotency_key(), *req, resp,
                      [&](pqxx::transaction_base& tx) -> absl::Status {
                        RETURN_IF_ERROR(CheckNameFree(tx, req->owner_org_id(), req->name(), ""));
                        v1::Gift gift;
                        gift.set_gift_id(NewId("g_"));
                        gift.set_name(req->name());
                        gift.set_description(req->description());
                        gift.set_image_uri(req->image_uri());
                        gift.set_category(req->category());
                        gift.set_points_cost(req->points_cost());
                        gift.set_active(!req->inactive());
                        gift.set_owner_org_id(req->owner_org_id());
                        *resp->mutable_gift() =
                            catalog_.Insert(tx, gift, org->path, caller.who().subject);
                        return absl::OkStatus();
                      });
  });
}

grpc::Status RewardsServiceImpl::GetGift(grpc::ServerContext* ctx, const v1::GetGiftRequest* req,
                                         v1::GetGiftResponse* resp) {
  return Handle(ctx, "GetGift", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->gift_id(), "gift_id"));
    return InReadTx("GetGift", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(PgCatalogStore::GiftRow row,
                       LoadGift(tx, req->gift_id(), IsRiderOnly(caller.who()), /*lock=*/false));
      *resp->mutable_gift() = std::move(row.gift);
      return absl::OkStatus();
    });
  });
}

grpc::Status RewardsServiceImpl::ListGifts(grpc::ServerContext* ctx,
                                           const v1::ListGiftsRequest* req,
                                           v1::ListGiftsResponse* resp) {
  return Handle(ctx, "ListGifts", [&](const Caller& caller) -> absl::Status {
    if (!v1::GiftCategory_IsValid(req->category())) {
      return absl::InvalidArgumentError("category: is not a GiftCategory");
    }
    RETURN_IF_ERROR(text::CheckText(req->name_contains(), "name_contains", {.max = 60}));
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 3));
    const bool inactive = req->include_inactive() && !IsRiderOnly(caller.who());
    // "Owned by this node or its ancestors": the node's path from identity.
    std::vector<std::string> owners;
    if (!req->owner_org_id().empty()) {
      absl::StatusOr<OrgInfo> org = directory_->GetOrg(req->owner_org_id());
      if (!org.ok() && org.status().code() != absl::StatusCode::kNotFound) return org.status();
      owners.push_back(req->owner_org_id());
      if (org.ok()) {
        for (const std::string& id : {org->path.district_id(), org->path.street_id()}) {
          if (!id.empty()) owners.push_back(id);
        }
      }
    }
    int after_category = 0;
    if (!paging.after.empty() && !absl::SimpleAtoi(paging.after[0], &after_category)) {
      after_category = 0;  // a token from no list of ours restarts the list
    }
    const PgCatalogStore::Filter filter{.category = static_cast<int>(req->category()),
                                        .include_inactive = inactive,
                                        .name_contains = req->name_contains(),
                                        .owners = std::move(owners),
                                        .after_category = after_category,
                                        .after_name = paging.after.empty() ? "" : paging.after[1],
                                        .after_id = paging.after.empty() ? "" : paging.after[2],
                                        .limit = paging.size + 1};
    return InReadTx("ListGifts", [&](pqxx::transaction_base& tx) -> absl::Status {
      std::vector<v1::Gift> gifts = catalog_.List(tx, filter);
      resp->set_next_page_token(TrimPage(gifts, paging, [](const v1::Gift& last) {
        return std::vector<std::string>{std::to_string(static_cast<int>(last.category())),
                                        last.name(), last.gift_id()};
      }));
      for (v1::Gift& g : gifts) *resp->add_gifts() = std::move(g);
      return absl::OkStatus();
    });
  });
}

grpc::Status RewardsServiceImpl::UpdateGift(grpc::ServerContext* ctx,
                                            const v1::UpdateGiftRequest* req,
                                            v1::UpdateGiftResponse* resp) {
  return Handle(ctx, "UpdateGift", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->gift_id(), "gift_id"));
    if (req->update_mask().paths_size() == 0) {
      return absl::InvalidArgumentError("update_mask: is required and must name fields");
    }
    for (const std::string& path : req->update_mask().paths()) {
      if (path != "name" && path != "description" && path != "image_uri" && path != "category" &&
          path != "points_cost" && path != "active") {
        return absl::InvalidArgumentError(
            absl::StrCat("update_mask: '", path, "' is not a field that can be updated"));
      }
    }
    return InTx("UpdateGift", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(PgCatalogStore::GiftRow row,
                       LoadGift(tx, req->gift_id(), false, /*lock=*/true));
      const v1::Gift& gift = row.gift;
      RETURN_IF_ERROR(CheckCovers(caller.who(), row.owner_path, "the gift's owner"));
      if (!req->etag().empty() && req->etag() != gift.etag()) {
        return Refuse(
            absl::StatusCode::kAborted, v1::ERROR_REASON_CONCURRENT_CHANGE,
            absl::StrCat("etag: the gift changed since it was read (now ", gift.etag(), ")"));
      }
      v1::Gift next = gift;
      for (const std::string& path : req->update_mask().paths()) {
        if (path == "name") next.set_name(req->gift().name());
        if (path == "description") next.set_description(req->gift().description());
        if (path == "image_uri") next.set_image_uri(req->gift().image_uri());
        if (path == "category") next.set_category(req->gift().category());
        if (path == "points_cost") next.set_points_cost(req->gift().points_cost());
        if (path == "active") next.set_active(req->gift().active());
      }
      RETURN_IF_ERROR(CheckGiftFields(next.name(), next.description(), next.image_uri(),
                                      next.category(), next.points_cost()));
      if (next.SerializeAsString() == gift.SerializeAsString()) {
        *resp->mutable_gift() = gift;
        return absl::OkStatus();
      }
      if (next.name() != gift.name()) {
        RETURN_IF_ERROR(CheckNameFree(tx, gift.owner_org_id(), next.name(), gift.gift_id()));
      }
      *resp->mutable_gift() = catalog_.Update(tx, next);
      return absl::OkStatus();
    });
  });
}

grpc::Status RewardsServiceImpl::ListGiftAvailability(grpc::ServerContext* ctx,
                                                      const v1::ListGiftAvailabilityRequest* req,
                                                      v1::ListGiftAvailabilityResponse* resp) {
  return Handle(ctx, "ListGiftAvailability", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->gift_id(), "gift_id"));
    ASSIGN_OR_RETURN(Paging paging, StartPaging(*req, 2));
    std::optional<int64_t> after_quantity;
    if (!paging.after.empty()) after_quantity = pg::PageKeyInt(paging.after);
    const std::string after_station = paging.after.empty() ? "" : paging.after[1];
    return InReadTx("ListGiftAvailability", [&](pqxx::transaction_base& tx) -> absl::Status {
      RETURN_IF_ERROR(
          LoadGift(tx, req->gift_id(), IsRiderOnly(caller.who()), /*lock=*/false).status());
      std::vector<v1::GiftAvailability> rows = catalog_.Availability(
          tx, req->gift_id(), req->window_id(), after_quantity, after_station, paging.size + 1);
      resp->set_next_page_token(TrimPage(rows, paging, [](const v1::GiftAvailability& last) {
        return std::vector<std::string>{std::to_string(last.available_quantity()),
                                        last.station_id()};
      }));
      for (v1::GiftAvailability& a : rows) *resp->add_availability() = std::move(a);
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::rewards
