// The gift catalog: CreateGift, GetGift, ListGifts, UpdateGift, ListGiftAvailability.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/text.h"
#include "services/rewards/access.h"
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
  pqxx::result taken = tx.exec_params(
      "SELECT gift_id FROM gifts WHERE owner_org_id = $1 AND lower(name) = lower($2) "
      "AND gift_id <> $3",
      owner, name, except_id);
  if (!taken.empty()) {
    return absl::AlreadyExistsError(absl::StrCat("name: org ", owner, " already has a gift named '",
                                                 name, "' (", taken[0][0].as<std::string>(), ")"));
  }
  return absl::OkStatus();
}

// Loads a gift (FOR UPDATE when `lock`); riders do not see inactive gifts. Errors: NOT_FOUND.
absl::StatusOr<pqxx::row> LoadGift(pqxx::transaction_base& tx, const std::string& gift_id,
                                   bool rider, bool lock) {
  pqxx::result r =
      tx.exec_params(absl::StrCat("SELECT ", kGiftColumns, " FROM gifts g WHERE g.gift_id = $1",
                                  lock ? " FOR UPDATE" : ""),
                     gift_id);
  if (r.empty() || (rider && !r[0][6].as<bool>())) {
    return absl::NotFoundError(absl::StrCat("gift ", gift_id, " does not exist"));
  }
  return r[0];
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
    return Idempotent(
        caller.who(), "CreateGift", req->idempotency_key(), *req, resp,
        [&](pqxx::transaction_base& tx) -> absl::Status {
          RETURN_IF_ERROR(CheckNameFree(tx, req->owner_org_id(), req->name(), ""));
          const std::string id = NewId("g_");
          pqxx::result r = tx.exec_params(
              absl::StrCat(
                  "INSERT INTO gifts AS g (gift_id, name, description, image_uri, category, "
                  "points_cost, active, owner_org_id, owner_district_id, owner_street_id, "
                  "creator_id) VALUES ($1, $2, $3, $4, $5::smallint, $6::bigint, $7::boolean, $8, "
                  "$9, $10, $11) RETURNING ",
                  kGiftColumns),
              id, req->name(), req->description(), req->image_uri(),
              static_cast<int>(req->category()), req->points_cost(), !req->inactive(),
              req->owner_org_id(), org->path.district_id(), org->path.street_id(),
              caller.who().subject);
          FillGift(r[0], resp->mutable_gift());
          return absl::OkStatus();
        });
  });
}

grpc::Status RewardsServiceImpl::GetGift(grpc::ServerContext* ctx, const v1::GetGiftRequest* req,
                                         v1::GetGiftResponse* resp) {
  return Handle(ctx, "GetGift", [&](const Caller& caller) -> absl::Status {
    RETURN_IF_ERROR(CheckId(req->gift_id(), "gift_id"));
    return InReadTx("GetGift", [&](pqxx::transaction_base& tx) -> absl::Status {
      ASSIGN_OR_RETURN(pqxx::row row, LoadGift(tx, req->gift_id(), IsRiderOnly(caller.who()),
                                               /*lock=*/false));
      FillGift(row, resp->mutable_gift());
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
    const std::string after_cat = paging.after.empty() ? "0" : paging.after[0];
    const std::string after_name = paging.after.empty() ? "" : paging.after[1];
    const std::string after_id = paging.after.empty() ? "" : paging.after[2];
    return InReadTx("ListGifts", [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result rows = tx.exec_params(
          absl::StrCat("SELECT ", kGiftColumns,
                       " FROM gifts g WHERE ($1::smallint = 0 OR g.category = $1::smallint) "
                       "AND ($2::boolean OR g.active) "
                       "AND ($3 = '' OR strpos(lower(g.name), lower($3)) > 0) "
                       "AND (cardinality($4::text[]) = 0 OR g.owner_org_id = ANY ($4::text[])) "
                       "AND (g.category, g.name, g.gift_id) > ($5::smallint, $6, $7) "
                       "ORDER BY g.category, g.name, g.gift_id LIMIT $8::int"),
          static_cast<int>(req->category()), inactive, req->name_contains(), pg::TextArray(owners),
          after_cat, after_name, after_id, paging.size + 1);
      resp->set_next_page_token(FillPage(
          rows, paging, [&](const pqxx::row& row) { FillGift(row, resp->add_gifts()); },
          [](const pqxx::row& row) {
            return std::vector<std::string>{row[4].as<std::string>(), row[1].as<std::string>(),
                                            row[0].as<std::string>()};
          }));
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
      ASSIGN_OR_RETURN(pqxx::row row, LoadGift(tx, req->gift_id(), false, /*lock=*/true));
      v1::Gift gift;
      FillGift(row, &gift);
      RETURN_IF_ERROR(CheckCovers(caller.who(), GiftOwnerPath(row), "the gift's owner"));
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
      pqxx::result r = tx.exec_params(
          absl::StrCat("UPDATE gifts AS g SET name = $2, description = $3, image_uri = $4, "
                       "category = $5::smallint, points_cost = $6::bigint, active = $7::boolean, "
                       "version = version + 1, updated_at = now() WHERE gift_id = $1 RETURNING ",
                       kGiftColumns),
          gift.gift_id(), next.name(), next.description(), next.image_uri(),
          static_cast<int>(next.category()), next.points_cost(), next.active());
      FillGift(r[0], resp->mutable_gift());
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
    const std::string after_qty = paging.after.empty() ? "9223372036854775807" : paging.after[0];
    const std::string after_id = paging.after.empty() ? "" : paging.after[1];
    return InReadTx("ListGiftAvailability", [&](pqxx::transaction_base& tx) -> absl::Status {
      RETURN_IF_ERROR(
          LoadGift(tx, req->gift_id(), IsRiderOnly(caller.who()), /*lock=*/false).status());
      pqxx::result rows = tx.exec_params(
          "SELECT s.station_id, s.available, ARRAY(SELECT w.window_id FROM exchange_windows w "
          "  JOIN window_stations ws ON ws.window_id = w.window_id AND ws.station_id = "
          "  s.station_id JOIN window_gifts wg ON wg.window_id = w.window_id AND wg.gift_id = "
          "  s.gift_id WHERE w.state IN (exchange_window_state('SCHEDULED'), "
          "exchange_window_state('OPEN')) ORDER BY w.start_at, w.window_id LIMIT 5) "
          "FROM station_stock s WHERE s.gift_id = $1 AND s.available >= 1 "
          "AND ($2 = '' OR EXISTS (SELECT 1 FROM window_stations ws WHERE ws.window_id = $2 "
          "  AND ws.station_id = s.station_id)) "
          "AND (s.available < $3::bigint OR (s.available = $3::bigint AND s.station_id > $4)) "
          "ORDER BY s.available DESC, s.station_id LIMIT $5::int",
          req->gift_id(), req->window_id(), after_qty, after_id, paging.size + 1);
      resp->set_next_page_token(FillPage(
          rows, paging,
          [&](const pqxx::row& row) {
            v1::GiftAvailability* a = resp->add_availability();
            a->set_station_id(row[0].as<std::string>());
            a->set_gift_id(req->gift_id());
            a->set_available_quantity(row[1].as<int64_t>());
            pqxx::array_parser ids = row[2].as_array();
            for (auto item = ids.get_next(); item.first != pqxx::array_parser::done;
                 item = ids.get_next()) {
              if (item.first == pqxx::array_parser::string_value) a->add_window_ids(item.second);
            }
          },
          [](const pqxx::row& row) {
            return std::vector<std::string>{row[1].as<std::string>(), row[0].as<std::string>()};
          }));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::rewards
