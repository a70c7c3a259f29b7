// ListRankingNames: the feed the ledger follows to show riders' ranking names. Its order is that of
// the transactions that changed the names (people.ranking_name_xact, set by a trigger on every
// change), and it lists only rows of transactions older than the oldest one still running: every
// such transaction has ended, so no change can later appear behind the cursor.
#include <algorithm>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/identity/identity_service.h"
#include "services/identity/ranking_name.h"

namespace civicpoints::identity {
namespace {

constexpr int kDefaultPage = 500;
constexpr int kMaxPage = 1000;

// A cursor is "<xid8>:<person_id>" of the last row listed; empty: before the first.
struct Cursor {
  std::string xact = "0";
  std::string person_id;
};

absl::StatusOr<Cursor> ParseCursor(const std::string& after) {
  Cursor c;
  if (after.empty()) return c;
  const size_t colon = after.find(':');
  uint64_t xact = 0;
  if (colon == std::string::npos || colon == 0 || colon + 1 == after.size() ||
      !absl::SimpleAtoi(after.substr(0, colon), &xact)) {
    return absl::InvalidArgumentError("after: is not a cursor of this feed");
  }
  c.xact = absl::StrCat(xact);
  c.person_id = after.substr(colon + 1);
  return c;
}

}  // namespace

grpc::Status IdentityServiceImpl::ListRankingNames(grpc::ServerContext* ctx,
                                                   const v1::ListRankingNamesRequest* req,
                                                   v1::ListRankingNamesResponse* resp) {
  return Handle(ctx, "ListRankingNames", [&](const Caller&) -> absl::Status {
    absl::StatusOr<Cursor> after = ParseCursor(req->after());
    if (!after.ok()) return after.status();
    if (req->page_size() < 0) return absl::InvalidArgumentError("page_size: must not be negative");
    const int limit = req->page_size() == 0 ? kDefaultPage : std::min(req->page_size(), kMaxPage);
    return InReadTx("ranking names", [&](pqxx::transaction_base& tx) -> absl::Status {
      const pqxx::result rows = tx.exec_params(
          "SELECT person_id, display_name, status, ranking_name_choice, coalesce(nickname, ''), "
          "coalesce(rider_number, 0), ranking_name_xact::text FROM people "
          "WHERE is_rider AND (ranking_name_xact, person_id) > ($1::xid8, $2) "
          "AND ranking_name_xact < pg_snapshot_xmin(pg_current_snapshot()) "
          "ORDER BY ranking_name_xact, person_id LIMIT $3",
          after->xact, after->person_id, limit + 1);
      Cursor last = *after;
      for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
        const pqxx::row& r = rows[i];
        v1::RankingName* name = resp->add_names();
        name->set_person_id(r[0].as<std::string>());
        name->set_name(RankingNameOf({
            .display_name = r[1].as<std::string>(),
            .choice = static_cast<v1::RankingNameChoice>(r[3].as<int>()),
            .nickname = r[4].as<std::string>(),
            .rider_number = r[5].as<int64_t>(),
            .status = static_cast<v1::PersonStatus>(r[2].as<int>()),
        }));
        last = {.xact = r[6].as<std::string>(), .person_id = name->person_id()};
      }
      resp->set_more(static_cast<int>(rows.size()) > limit);
      resp->set_next_after(last.person_id.empty() ? req->after()
                                                  : absl::StrCat(last.xact, ":", last.person_id));
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::identity
