#include "services/rewards/records.h"

#include <sodium.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace civicpoints::rewards {

std::string NewId(absl::string_view prefix) {
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  return absl::StrCat(prefix, absl::BytesToHexString(absl::string_view(
                                  reinterpret_cast<const char*>(bytes), sizeof bytes)));
}

std::string NewPickupCode() {
  char code[7];
  for (int i = 0; i < 6; ++i) code[i] = static_cast<char>('0' + randombytes_uniform(10));
  code[6] = '\0';
  return code;
}

absl::Status CheckId(absl::string_view id, const char* field) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  if (id.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is longer than 64 characters"));
  }
  return absl::OkStatus();
}

// ---- rows ----

void FillGift(const pqxx::row& row, v1::Gift* gift) {
  gift->set_gift_id(row[0].as<std::string>());
  gift->set_name(row[1].as<std::string>());
  gift->set_description(row[2].as<std::string>());
  gift->set_image_uri(row[3].as<std::string>());
  gift->set_category(static_cast<v1::GiftCategory>(row[4].as<int>()));
  gift->set_points_cost(row[5].as<int64_t>());
  gift->set_active(row[6].as<bool>());
  gift->set_owner_org_id(row[7].as<std::string>());
  SetTime(gift->mutable_create_time(), row[8]);
  SetTime(gift->mutable_update_time(), row[9]);
  gift->set_etag(absl::StrCat("v", row[10].as<int64_t>()));
}

common::v1::OrgPath GiftOwnerPath(const pqxx::row& row) {
  common::v1::OrgPath path;
  path.set_district_id(row[11].as<std::string>());
  path.set_street_id(row[12].as<std::string>());
  return path;
}

void FillStock(const pqxx::row& row, v1::StationStock* stock) {
  stock->set_station_id(row[0].as<std::string>());
  stock->set_gift_id(row[1].as<std::string>());
  stock->set_gift_name(row[2].as<std::string>());
  const int64_t available = row[3].as<int64_t>(), reserved = row[4].as<int64_t>();
  stock->set_available_quantity(available);
  stock->set_reserved_quantity(reserved);
  stock->set_on_hand_quantity(available + reserved);
  stock->mutable_station_org()->set_district_id(row[5].as<std::string>());
  stock->mutable_station_org()->set_street_id(row[6].as<std::string>());
  stock->mutable_station_org()->set_community_id(row[7].as<std::string>());
  SetTime(stock->mutable_update_time(), row[8]);
}

void FillMovement(const pqxx::row& row, v1::StockMovement* m) {
  m->set_movement_id(row[0].as<std::string>());
  m->set_station_id(row[1].as<std::string>());
  m->set_gift_id(row[2].as<std::string>());
  m->set_kind(static_cast<v1::StockMovementKind>(row[3].as<int>()));
  m->set_available_delta(row[4].as<int64_t>());
  m->set_reserved_delta(row[5].as<int64_t>());
  m->set_on_hand_delta(row[6].as<int64_t>());
  m->set_available_after(row[7].as<int64_t>());
  m->set_on_hand_after(row[8].as<int64_t>());
  m->set_reason(row[9].as<std::string>());
  m->set_actor_id(row[10].as<std::string>());
  m->set_redemption_id(row[11].as<std::string>());
  SetTime(m->mutable_create_time(), row[12]);
}

WindowRecord ReadWindow(const pqxx::row& row) {
  WindowRecord rec;
  v1::ExchangeWindow& w = rec.window;
  w.set_window_id(row[0].as<std::string>());
  w.set_title(row[1].as<std::string>());
  w.set_description(row[2].as<std::string>());
  w.set_owner_org_id(row[3].as<std::string>());
  SetTime(w.mutable_start_time(), row[4]);
  SetTime(w.mutable_end_time(), row[5]);
  v1::EligibilityRule rule;
  if (rule.ParseFromString(pqxx::binarystring(row[6]).str()) && rule.ByteSizeLong() > 0) {
    *w.mutable_eligibility() = rule;
  }
  w.set_max_items_per_rider(row[7].as<int>());
  if (!row[8].is_null()) {
    rec.pickup_ttl_s = row[8].as<int64_t>();
    w.mutable_pickup_ttl()->set_seconds(rec.pickup_ttl_s);
  }
  w.set_state(static_cast<v1::ExchangeWindowState>(row[9].as<int>()));
  w.set_rule_text(row[10].as<std::string>());
  if (!row[11].is_null()) {
    (void)w.mutable_snapshot()->ParseFromString(pqxx::binarystring(row[11]).str());
  }
  w.set_creator_id(row[12].as<std::string>());
  SetTime(w.mutable_create_time(), row[13]);
  SetTime(w.mutable_update_time(), row[14]);
  SetTime(w.mutable_open_time(), row[15]);
  SetTime(w.mutable_close_time(), row[16]);
  rec.version = row[17].as<int64_t>();
  w.set_etag(absl::StrCat("v", rec.version));
  w.set_close_reason(row[18].as<std::string>());
  rec.owner_path.set_district_id(row[19].as<std::string>());
  rec.owner_path.set_street_id(row[20].as<std::string>());
  rec.owner_path.set_community_id(row[21].as<std::string>());
  return rec;
}

absl::StatusOr<WindowRecord> LoadWindow(pqxx::transaction_base& tx, const std::string& window_id,
                                        bool lock) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kWindowColumns, " FROM exchange_windows w WHERE w.window_id = $1",
                   lock ? " FOR UPDATE" : ""),
      window_id);
  if (r.empty()) {
    return absl::NotFoundError(absl::StrCat("exchange window ", window_id, " does not exist"));
  }
  WindowRecord rec = ReadWindow(r[0]);
  LoadWindowParts(tx, &rec.window);
  return rec;
}

void LoadWindowParts(pqxx::transaction_base& tx, v1::ExchangeWindow* window) {
  window->clear_station_ids();
  window->clear_gifts();
  for (const auto& row : tx.exec_params(
           "SELECT station_id FROM window_stations WHERE window_id = $1 ORDER BY position",
           window->window_id())) {
    window->add_station_ids(row[0].as<std::string>());
  }
  for (const auto& row :
       tx.exec_params("SELECT wg.gift_id, g.name, g.points_cost, wg.max_per_rider "
                      "FROM window_gifts wg JOIN gifts g USING (gift_id) "
                      "WHERE wg.window_id = $1 ORDER BY wg.position",
                      window->window_id())) {
    v1::WindowGift* g = window->add_gifts();
    g->set_gift_id(row[0].as<std::string>());
    g->set_gift_name(row[1].as<std::string>());
    g->set_points_cost(row[2].as<int64_t>());
    g->set_max_per_rider(row[3].as<int>());
  }
}

std::vector<std::string> FirstColumn(const pqxx::result& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(row[0].as<std::string>());
  return out;
}

void FillRedemption(const pqxx::row& row, bool with_code, v1::Redemption* out) {
  out->set_redemption_id(row[0].as<std::string>());
  out->set_rider_id(row[1].as<std::string>());
  out->set_window_id(row[2].as<std::string>());
  out->set_station_id(row[3].as<std::string>());
  out->set_gift_id(row[4].as<std::string>());
  out->set_gift_name(row[5].as<std::string>());
  out->set_quantity(row[6].as<int>());
  out->set_unit_points_cost(row[7].as<int64_t>());
  out->set_points_cost(row[8].as<int64_t>());
  out->set_state(static_cast<v1::RedemptionState>(row[9].as<int>()));
  if (with_code && out->state() == v1::REDEMPTION_STATE_READY) {
    out->set_pickup_code(row[10].as<std::string>());
  }
  out->mutable_station_org()->set_district_id(row[11].as<std::string>());
  out->mutable_station_org()->set_street_id(row[12].as<std::string>());
  out->mutable_station_org()->set_community_id(row[13].as<std::string>());
  SetTime(out->mutable_create_time(), row[14]);
  SetTime(out->mutable_ready_time(), row[15]);
  SetTime(out->mutable_expire_time(), row[16]);
  SetTime(out->mutable_end_time(), row[17]);
  out->set_fulfilled_by(row[18].as<std::string>());
  out->set_failure_reason(static_cast<v1::ErrorReason>(row[19].as<int>()));
  out->set_cancel_reason(row[20].as<std::string>());
}

OrderInternals ReadOrderInternals(const pqxx::row& row) {
  OrderInternals o;
  o.intent = row[21].as<int>();
  o.intent_reason = row[22].as<int>();
  o.stock_reserved = row[23].as<bool>();
  o.failure_message = row[24].as<std::string>();
  o.pickup_ttl_s = row[25].as<int64_t>();
  return o;
}

namespace {
std::string PeriodText(const common::v1::RankingPeriod& p) {
  switch (p.kind()) {
    case common::v1::RANKING_PERIOD_KIND_ALL_TIME:
      return "累计";
    case common::v1::RANKING_PERIOD_KIND_MONTH:
      return p.key().empty() ? "本月" : p.key();
    case common::v1::RANKING_PERIOD_KIND_ISO_WEEK:
      return p.key().empty() ? "本周" : p.key();
    case common::v1::RANKING_PERIOD_KIND_SEASON:
      return absl::StrCat("赛季 ", p.key());
    default:
      return "";
  }
}
}  // namespace

std::string ComposeRuleText(const v1::ExchangeWindow& w, const std::string& scope_name) {
  std::vector<std::string> parts;
  const v1::EligibilityRule& e = w.eligibility();
  if (e.has_ranking()) {
    const int n = e.ranking().top_n();
    parts.push_back(absl::StrCat(PeriodText(e.ranking().period()), " ", scope_name, "积分排行前 ",
                                 n, " 名（与第 ", n,
                                 " 名积分相同者同样入选；排名在兑换开始时确定）"));
  }
  if (e.min_balance() > 0) parts.push_back(absl::StrCat("可用积分不少于 ", e.min_balance()));
  std::vector<std::string> limits;
  int common_limit = -1;
  bool same = true;
  for (const v1::WindowGift& g : w.gifts()) {
    if (g.max_per_rider() <= 0) {
      same = false;
      continue;
    }
    if (common_limit == -1) common_limit = g.max_per_rider();
    if (g.max_per_rider() != common_limit) same = false;
  }
  if (common_limit > 0 && same) {
    limits.push_back(absl::StrCat("每种礼品每人限 ", common_limit, " 件"));
  } else {
    for (const v1::WindowGift& g : w.gifts()) {
      if (g.max_per_rider() > 0) {
        limits.push_back(absl::StrCat(g.gift_name(), "每人限 ", g.max_per_rider(), " 件"));
      }
    }
  }
  if (w.max_items_per_rider() > 0) {
    limits.push_back(absl::StrCat("每人合计限 ", w.max_items_per_rider(), " 件"));
  }
  if (!limits.empty()) parts.push_back(absl::StrJoin(limits, "，"));
  if (parts.empty()) return "所有骑手均可兑换。";
  return absl::StrCat(absl::StrJoin(parts, "；"), "。");
}

}  // namespace civicpoints::rewards
