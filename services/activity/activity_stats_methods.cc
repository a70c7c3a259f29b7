// GetActivityStats: dashboard figures of an org node's subtree over a day range (Asia/Shanghai),
// read from activity's own tables in one read-only transaction. Activities count at their
// organiser, shifts at the post's community, service records at the record's community, active
// riders and points at the rider's path on the award.
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/pg/sql_values.h"
#include "services/activity/activity_service.h"
#include "services/activity/directory.h"

namespace civicpoints::activity {
namespace {

constexpr int kMaxDays = 366;
constexpr int kDefaultDays = 30;

// The Shanghai day of a timestamptz column, as "YYYY-MM-DD" (China keeps UTC+8 all year).
std::string Day(const std::string& column) {
  return absl::StrCat("to_char((", column, " AT TIME ZONE 'UTC') + interval '8 hours', ",
                      "'YYYY-MM-DD')");
}

// The condition selecting a node's subtree on a table (alias `t`) with district_id, street_id
// and community_id columns; $1 is the node id.
std::string InSubtree(common::v1::OrgLevel level, const std::string& t) {
  switch (level) {
    case common::v1::ORG_LEVEL_DISTRICT:
      return absl::StrCat(t, ".district_id = $1");
    case common::v1::ORG_LEVEL_STREET:
      return absl::StrCat(t, ".street_id = $1");
    case common::v1::ORG_LEVEL_COMMUNITY:
      return absl::StrCat(t, ".community_id = $1");
    default:
      return "$1 = $1";  // the whole city
  }
}

absl::StatusOr<absl::Time> ParseDay(const std::string& text, absl::string_view field) {
  absl::Time t;
  std::string err;
  if (text.size() != 10 || !absl::ParseTime("%Y-%m-%d", text, Shanghai(), &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", text, "' is not a day as YYYY-MM-DD"));
  }
  return t;
}

void AddDaily(const pqxx::result& rows,
              google::protobuf::RepeatedPtrField<common::v1::DailyCount>* out) {
  for (const auto& row : rows) {
    common::v1::DailyCount* d = out->Add();
    d->set_day(row[0].as<std::string>());
    d->set_value(row[1].as<int64_t>());
  }
}

// Fills `out` for the node (`level`, `org_id`) over [from, to).
void Compute(pqxx::transaction_base& tx, common::v1::OrgLevel level, const std::string& org_id,
             int64_t from, int64_t to, v1::ActivityStats* out) {
  out->mutable_scope()->set_level(level);
  out->mutable_scope()->set_org_id(org_id);
  auto q = [&](const std::string& sql) { return tx.exec_params(sql, org_id, from, to); };
  const std::string in_range =
      "BETWEEN from_us($2::bigint) AND from_us($3::bigint) - interval '1 microsecond'";
  const std::string held = absl::StrCat(InSubtree(level, "a"), " AND a.start_at ", in_range);

  pqxx::row acts =
      q(absl::StrCat("SELECT count(*) FILTER (WHERE a.cancelled_at IS NULL), "
                     "count(*) FILTER (WHERE a.cancelled_at IS NOT NULL) FROM activities a WHERE ",
                     held))[0];
  out->set_activities_held(acts[0].as<int64_t>());
  out->set_activities_cancelled(acts[1].as<int64_t>());
  pqxx::row seats =
      q(absl::StrCat("SELECT count(*) FILTER (WHERE e.status <> enrolment_status('WITHDRAWN')), "
                     "count(*) FILTER (WHERE e.status = enrolment_status('CONFIRMED')), "
                     "count(DISTINCT e.rider_id) FILTER (WHERE e.status = "
                     "enrolment_status('CONFIRMED')) FROM enrolments e JOIN activities a "
                     "USING (activity_id) WHERE a.cancelled_at IS NULL AND ",
                     held))[0];
  out->set_enrolments(seats[0].as<int64_t>());
  out->set_attendances_confirmed(seats[1].as<int64_t>());
  out->set_distinct_participants(seats[2].as<int64_t>());

  pqxx::row posts = q(absl::StrCat(
      "SELECT count(*) FILTER (WHERE t.status = post_status('OPEN')) FROM posts t WHERE ",
      InSubtree(level, "t"),
      " AND t.created_at < from_us($3::bigint) AND $2::bigint IS NOT NULL"))[0];
  out->set_posts_open(posts[0].as<int64_t>());
  out->set_post_seats_filled(
      q(absl::StrCat("SELECT count(*) FROM post_claims c JOIN posts t USING (post_id) WHERE ",
                     InSubtree(level, "t"),
                     " AND c.status = post_claim_status('APPROVED') AND c.decided_at < "
                     "from_us($3::bigint) AND $2::bigint IS NOT NULL"))[0][0]
          .as<int64_t>());
  out->set_shifts_confirmed(q(absl::StrCat(
      "SELECT count(*) FROM duty_shifts s JOIN posts t USING (post_id) WHERE ",
      InSubtree(level, "t"), " AND s.status = duty_shift_status('CONFIRMED') AND s.start_at ",
      in_range))[0][0]
                                .as<int64_t>());

  const std::string records = absl::StrCat(InSubtree(level, "t"), " AND t.created_at ", in_range);
  for (const auto& row : q(absl::StrCat("SELECT t.kind, t.status, count(*) FROM service_records t "
                                        "WHERE ",
                                        records, " GROUP BY 1, 2 ORDER BY 1, 2"))) {
    v1::ServiceRecordCount* c = out->add_service_records();
    c->set_kind(static_cast<v1::ServiceRecordKind>(row[0].as<int>()));
    c->set_status(static_cast<v1::ServiceRecordStatus>(row[1].as<int>()));
    c->set_count(row[2].as<int64_t>());
  }
  const std::string verified_at = "COALESCE(t.decided_at, t.reviewed_at)";
  const std::string verified =
      absl::StrCat(InSubtree(level, "t"), " AND t.status = service_record_status('VERIFIED') AND ",
                   verified_at, " ", in_range);
  out->set_service_records_verified(
      q(absl::StrCat("SELECT count(*) FROM service_records t WHERE ", verified))[0][0]
          .as<int64_t>());

  // The review backlog is what waits now, whenever it was submitted ($2 only types the parameter).
  pqxx::row backlog = q(absl::StrCat(
      "SELECT count(*), us(min(CASE WHEN t.status = service_record_status('APPEALED') THEN "
      "COALESCE(t.appealed_at, t.created_at) ELSE t.created_at END)) FROM service_records t "
      "WHERE ",
      InSubtree(level, "t"),
      " AND t.status IN (service_record_status('SUBMITTED'), service_record_status('APPEALED')) "
      "AND $2::bigint IS NOT NULL AND $3::bigint IS NOT NULL"))[0];
  out->set_review_backlog(backlog[0].as<int64_t>());
  pg::SetTime(out->mutable_review_backlog_oldest_time(), backlog[1]);
  if (out->review_backlog() == 0) out->clear_review_backlog_oldest_time();

  // Problem cases: open and overdue now (the transaction's time), closed in the range.
  const std::string closed_in = absl::StrCat("t.closed_at ", in_range);
  pqxx::row cases = q(absl::StrCat(
      "SELECT count(*) FILTER (WHERE t.closed_at IS NULL), count(*) FILTER (WHERE t.status = "
      "problem_case_status('ASSIGNED') AND t.deadline < now()), count(*) FILTER (WHERE ",
      closed_in, "), count(*) FILTER (WHERE ", closed_in,
      " AND t.outcome = problem_case_outcome('FIXED')) FROM problem_cases t WHERE ",
      InSubtree(level, "t")))[0];
  out->set_problem_cases_open(cases[0].as<int64_t>());
  out->set_problem_cases_overdue(cases[1].as<int64_t>());
  out->set_problem_cases_closed(cases[2].as<int64_t>());
  out->set_problem_cases_fixed(cases[3].as<int64_t>());

  const std::string awards = absl::StrCat(InSubtree(level, "t"), " AND t.created_at ", in_range);
  pqxx::row earned =
      q(absl::StrCat("SELECT count(DISTINCT t.rider_id), COALESCE(sum(t.points) FILTER (WHERE "
                     "t.status = award_status('AWARDED')), 0), "
                     "COALESCE(sum(t.points) FILTER (WHERE t.status IN (award_status('PENDING'), "
                     "award_status('FAILED'))), 0) FROM awards t WHERE ",
                     awards))[0];
  out->set_active_riders(earned[0].as<int64_t>());
  out->set_points_awarded(earned[1].as<int64_t>());
  out->set_points_pending(earned[2].as<int64_t>());

  AddDaily(q(absl::StrCat("SELECT ", Day("a.start_at"), ", count(*) FROM activities a WHERE ", held,
                          " AND a.cancelled_at IS NULL GROUP BY 1 ORDER BY 1")),
           out->mutable_activities_held_per_day());
  AddDaily(q(absl::StrCat(
               "SELECT ", Day("a.start_at"),
               ", count(*) FROM enrolments e JOIN activities a USING (activity_id) "
               "WHERE e.status = enrolment_status('CONFIRMED') AND a.cancelled_at IS NULL AND ",
               held, " GROUP BY 1 ORDER BY 1")),
           out->mutable_attendances_confirmed_per_day());
  AddDaily(
      q(absl::StrCat("SELECT ", Day("t.created_at"), ", count(*) FROM service_records t WHERE ",
                     records, " GROUP BY 1 ORDER BY 1")),
      out->mutable_service_records_submitted_per_day());
  AddDaily(q(absl::StrCat("SELECT ", Day(verified_at), ", count(*) FROM service_records t WHERE ",
                          verified, " GROUP BY 1 ORDER BY 1")),
           out->mutable_service_records_verified_per_day());
  AddDaily(q(absl::StrCat("SELECT ", Day("t.created_at"),
                          ", count(DISTINCT t.rider_id) FROM awards t WHERE ", awards,
                          " GROUP BY 1 ORDER BY 1")),
           out->mutable_active_riders_per_day());
  v1::ServiceRecordDailySeries* series = nullptr;
  for (const auto& row : q(absl::StrCat("SELECT t.kind, t.status, ", Day("t.created_at"),
                                        ", count(*) FROM service_records t WHERE ", records,
                                        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"))) {
    const auto kind = static_cast<v1::ServiceRecordKind>(row[0].as<int>());
    const auto status = static_cast<v1::ServiceRecordStatus>(row[1].as<int>());
    if (series == nullptr || series->kind() != kind || series->status() != status) {
      series = out->add_service_record_series();
      series->set_kind(kind);
      series->set_status(status);
    }
    common::v1::DailyCount* d = series->add_days();
    d->set_day(row[2].as<std::string>());
    d->set_value(row[3].as<int64_t>());
  }
}

}  // namespace

grpc::Status ActivityServiceImpl::GetActivityStats(grpc::ServerContext* ctx,
                                                   const v1::GetActivityStatsRequest* req,
                                                   v1::GetActivityStatsResponse* resp) {
  return Handle(ctx, "GetActivityStats", [&](const Caller& caller) -> absl::Status {
    const absl::Time today = ParseDay(ShanghaiDay(caller.now), "today").value();
    absl::Time to = today, from;
    if (!req->to_day().empty()) {
      absl::StatusOr<absl::Time> t = ParseDay(req->to_day(), "to_day");
      if (!t.ok()) return t.status();
      to = *t;
    }
    if (!req->from_day().empty()) {
      absl::StatusOr<absl::Time> f = ParseDay(req->from_day(), "from_day");
      if (!f.ok()) return f.status();
      from = *f;
    } else {
      from = to - absl::Hours(24 * (kDefaultDays - 1));
    }
    if (from > to) return absl::InvalidArgumentError("from_day: is after to_day");
    if (to - from >= absl::Hours(24 * kMaxDays)) {
      return absl::InvalidArgumentError(
          absl::StrCat("from_day, to_day: the range is over ", kMaxDays, " days"));
    }
    OrgInfo node;
    if (req->org_id().empty()) {
      if (!caller.is_city_system() && !caller.is_internal()) {
        return Refuse(absl::StatusCode::kPermissionDenied,
                      v1::ACTIVITY_ERROR_REASON_OUTSIDE_ORG_SCOPE,
                      "org_id: only city systems may ask for the whole city; name a node");
      }
      node.org_id = "root";
      node.level = common::v1::ORG_LEVEL_CITY;
    } else {
      absl::StatusOr<OrgInfo> org = directory_->Org(req->org_id(), "org_id");
      if (!org.ok()) return org.status();
      node = *org;
    }
    if (absl::Status s =
            CheckCovers(caller.who(), node.path, absl::StrCat("org node ", node.org_id));
        !s.ok()) {
      return s;
    }
    std::vector<OrgInfo> children;
    if (req->include_children() && node.level != common::v1::ORG_LEVEL_COMMUNITY) {
      absl::StatusOr<std::vector<OrgInfo>> c = directory_->Children(node.org_id);
      if (!c.ok()) return c.status();
      children = *std::move(c);
      std::sort(children.begin(), children.end(),
                [](const OrgInfo& a, const OrgInfo& b) { return a.org_id < b.org_id; });
    }
    const int64_t from_us = Us(from), to_us = Us(to + absl::Hours(24));
    return InReadTx("activity stats", [&](pqxx::transaction_base& tx) {
      Compute(tx, node.level, node.org_id, from_us, to_us, resp->mutable_stats());
      for (const OrgInfo& child : children) {
        Compute(tx, child.level, child.org_id, from_us, to_us, resp->add_children());
      }
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::activity
