#include "services/rewards/standing.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace civicpoints::rewards {

StandingFacts ReadStandingFacts(pqxx::transaction_base& tx, const WindowRecord& rec,
                                const std::string& rider) {
  const v1::ExchangeWindow& w = rec.window;
  StandingFacts facts;
  if (w.eligibility().has_ranking() && w.state() != v1::EXCHANGE_WINDOW_STATE_SCHEDULED) {
    pqxx::result r = tx.exec_params(
        "SELECT rank, points FROM window_eligible WHERE window_id = $1 AND rider_id = $2",
        w.window_id(), rider);
    if (!r.empty()) {
      facts.cut_rank = r[0][0].as<int32_t>();
      facts.cut_points = r[0][1].as<int64_t>();
    }
  }
  for (const auto& row : tx.exec_params(
           "SELECT gift_id, sum(quantity) FROM redemptions WHERE window_id = $1 AND rider_id = $2 "
           "AND state IN (redemption_state('PENDING'), redemption_state('READY'), "
           "redemption_state('FULFILLED')) GROUP BY gift_id",
           w.window_id(), rider)) {
    facts.redeemed_by_gift[row[0].as<std::string>()] = row[1].as<int32_t>();
  }
  return facts;
}

Standing EvaluateStanding(const WindowRecord& rec, const std::string& rider, int64_t balance,
                          absl::Time now, const ProvisionalRank& provisional,
                          const StandingFacts& facts) {
  const v1::ExchangeWindow& w = rec.window;
  Standing st;
  v1::Eligibility& e = st.eligibility;
  e.set_window_id(w.window_id());
  e.set_rider_id(rider);
  e.set_available_balance(balance);
  e.set_min_balance(w.eligibility().min_balance());

  const bool scheduled = w.state() == v1::EXCHANGE_WINDOW_STATE_SCHEDULED;
  const bool closed = w.state() == v1::EXCHANGE_WINDOW_STATE_CLOSED || TimeOf(w.end_time()) <= now;
  if (closed) {
    e.add_reasons(v1::ERROR_REASON_WINDOW_CLOSED);
  } else if (scheduled || TimeOf(w.start_time()) > now) {
    e.add_reasons(v1::ERROR_REASON_WINDOW_NOT_OPEN);
  }

  if (w.eligibility().has_ranking()) {
    if (scheduled) {
      e.set_ranking_provisional(true);
      e.set_rank(provisional.rank);
      e.set_ranking_points(provisional.points);
      e.set_cutoff_points(provisional.cutoff);
      const bool in = provisional.known && provisional.rank > 0 &&
                      (provisional.rank <= w.eligibility().ranking().top_n() ||
                       (provisional.cutoff > 0 && provisional.points >= provisional.cutoff));
      if (!in) e.add_reasons(v1::ERROR_REASON_NOT_IN_RANKING_CUT);
    } else {
      e.set_cutoff_points(w.snapshot().cutoff_points());
      if (!facts.cut_rank.has_value()) {
        e.add_reasons(v1::ERROR_REASON_NOT_IN_RANKING_CUT);
      } else {
        e.set_rank(*facts.cut_rank);
        e.set_ranking_points(facts.cut_points);
      }
    }
  }
  if (balance < w.eligibility().min_balance()) {
    e.add_reasons(v1::ERROR_REASON_BALANCE_BELOW_MINIMUM);
  }

  st.redeemed_by_gift = facts.redeemed_by_gift;
  for (const auto& [gift, n] : st.redeemed_by_gift) st.redeemed_total += n;
  const int32_t window_max = w.max_items_per_rider();
  const int32_t window_left = window_max > 0 ? std::max(0, window_max - st.redeemed_total) : -1;
  e.set_window_remaining(window_left);
  for (const v1::WindowGift& g : w.gifts()) {
    v1::GiftAllowance* a = e.add_allowances();
    a->set_gift_id(g.gift_id());
    const int32_t used = st.redeemed_by_gift[g.gift_id()];
    a->set_redeemed(used);
    int32_t left = g.max_per_rider() > 0 ? std::max(0, g.max_per_rider() - used) : -1;
    if (window_left >= 0) left = left < 0 ? window_left : std::min(left, window_left);
    a->set_remaining(left);
  }
  if (window_left == 0) e.add_reasons(v1::ERROR_REASON_WINDOW_LIMIT_REACHED);
  e.set_eligible(e.reasons_size() == 0);
  if (!e.eligible()) e.set_explanation(Explain(e, w));
  return st;
}

std::string Explain(const v1::Eligibility& e, const v1::ExchangeWindow& w) {
  std::vector<std::string> parts;
  for (int r : e.reasons()) {
    switch (r) {
      case v1::ERROR_REASON_WINDOW_NOT_OPEN:
        parts.push_back("兑换尚未开始");
        break;
      case v1::ERROR_REASON_WINDOW_CLOSED:
        parts.push_back("兑换已结束");
        break;
      case v1::ERROR_REASON_NOT_IN_RANKING_CUT:
        if (e.rank() > 0) {
          parts.push_back(absl::StrCat("您在排行中列第 ", e.rank(), " 名（", e.ranking_points(),
                                       " 分），入选线为第 ", w.eligibility().ranking().top_n(),
                                       " 名 ", e.cutoff_points(), " 分"));
        } else {
          parts.push_back("您不在本次兑换的积分排行中");
        }
        break;
      case v1::ERROR_REASON_BALANCE_BELOW_MINIMUM:
        parts.push_back(absl::StrCat("可用积分 ", e.available_balance(), " 分，低于要求的 ",
                                     e.min_balance(), " 分"));
        break;
      case v1::ERROR_REASON_WINDOW_LIMIT_REACHED:
        parts.push_back(absl::StrCat("已达到每人合计 ", w.max_items_per_rider(), " 件的上限"));
        break;
      default:
        break;
    }
  }
  return absl::StrCat(absl::StrJoin(parts, "；"), "。");
}

}  // namespace civicpoints::rewards
