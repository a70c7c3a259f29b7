// Problem cases on real identity and ledger: verified problem reports open a case or join one
// (same kind, within 50 m and 24 h); the street assigns it to a department of its own street; the
// department records progress and closes it, and the first reporter's bonus reaches the ledger
// once; every refusal the contract names writes nothing; dashboards count the cases.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "services/activity/activity_test_env.h"

namespace civicpoints::activity {
namespace {

using common::v1::ORG_LEVEL_DEPARTMENT;
using common::v1::ORG_LEVEL_STREET;
using common::v1::ROLE_DEPARTMENT_STAFF;

// About 1 m of latitude, in degrees.
constexpr double kMetre = 1.0 / 111'195;
constexpr double kLat = 40.0937, kLon = 113.2956;

class ProblemCaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    std::tie(first_id_, first_) = env_.Rider(env_.west);
    std::tie(second_id_, second_) = env_.Rider(env_.west);
    team_ = env_.identity().MakeOrg(env_.street, ORG_LEVEL_DEPARTMENT, "qy-zfd",
                                    "清远街道综合行政执法队");
    team_staff_ = env_.identity().Staff("13900000061", ROLE_DEPARTMENT_STAFF, team_).token;
    const std::string other_street =
        env_.identity().MakeOrg(env_.district, ORG_LEVEL_STREET, "xinjian", "新建街道");
    other_team_ =
        env_.identity().MakeOrg(other_street, ORG_LEVEL_DEPARTMENT, "xj-hws", "新建街道环卫所");
    other_team_staff_ =
        env_.identity().Staff("13900000062", ROLE_DEPARTMENT_STAFF, other_team_).token;
  }

  // A verified report by `rider` of `kind` `north` metres north of the spot; returns the record.
  v1::ServiceRecord Reported(const std::string& rider, double north,
                             v1::ServiceRecordKind kind = v1::SERVICE_RECORD_KIND_ROAD_OCCUPATION) {
    v1::SubmitServiceRecordRequest submit;
    v1::ServiceRecord* r = submit.mutable_service_record();
    r->set_kind(kind);
    r->set_description("车行的电动车摆满人行道，行人只能走机动车道");
    r->mutable_location()->set_latitude(kLat + north * kMetre);
    r->mutable_location()->set_longitude(kLon);
    r->set_address("清远西街车行门口");
    r->set_community_id(env_.west);
    submit.set_idempotency_key(absl::StrCat("report-", ++keys_));
    v1::SubmitServiceRecordResponse submitted;
    grpc::Status s = env_.stub().SubmitServiceRecord(env_.With(rider).get(), submit, &submitted);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::VerifyServiceRecordRequest verify;
    verify.set_service_record_id(submitted.service_record().service_record_id());
    v1::VerifyServiceRecordResponse verified;
    s = env_.stub().VerifyServiceRecord(env_.With(env_.west_staff).get(), verify, &verified);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return verified.service_record();
  }

  grpc::Status Get(const std::string& token, const std::string& id, v1::ProblemCase* out) {
    v1::GetProblemCaseRequest req;
    req.set_case_id(id);
    v1::GetProblemCaseResponse resp;
    grpc::Status s = env_.stub().GetProblemCase(env_.With(token).get(), req, &resp);
    *out = resp.problem_case();
    return s;
  }

  v1::AssignProblemCaseRequest Assignment(const std::string& id, const std::string& department) {
    v1::AssignProblemCaseRequest req;
    req.set_case_id(id);
    req.set_department_id(department);
    req.set_notice_number("清远执法〔2026〕第118号");
    *req.mutable_deadline() = Timestamp(absl::Now() + absl::Hours(72));
    req.set_note("请三日内督促车行整改");
    return req;
  }

  grpc::Status Assign(const std::string& token, const v1::AssignProblemCaseRequest& req,
                      v1::ProblemCase* out = nullptr) {
    v1::AssignProblemCaseResponse resp;
    grpc::Status s = env_.stub().AssignProblemCase(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.problem_case();
    return s;
  }

  grpc::Status Progress(const std::string& token, const std::string& id, const std::string& note,
                        const std::string& key) {
    v1::RecordProblemCaseProgressRequest req;
    req.set_case_id(id);
    req.set_note(note);
    req.set_idempotency_key(key);
    req.add_attachments()->set_ref("uploads/2026/12/notice-served.jpg");
    v1::RecordProblemCaseProgressResponse resp;
    return env_.stub().RecordProblemCaseProgress(env_.With(token).get(), req, &resp);
  }

  v1::CloseProblemCaseRequest Closing(const std::string& id) {
    v1::CloseProblemCaseRequest req;
    req.set_case_id(id);
    req.set_outcome(v1::PROBLEM_CASE_OUTCOME_FIXED);
    req.set_note("车行已将电动车搬回店内，人行道恢复通行");
    req.mutable_after_photo()->set_ref("uploads/2026/12/pavement-clear.jpg");
    return req;
  }

  grpc::Status Close(const std::string& token, const v1::CloseProblemCaseRequest& req,
                     v1::ProblemCase* out = nullptr) {
    v1::CloseProblemCaseResponse resp;
    grpc::Status s = env_.stub().CloseProblemCase(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.problem_case();
    return s;
  }

  static google::protobuf::Timestamp Timestamp(absl::Time t) {
    google::protobuf::Timestamp ts;
    ts.set_seconds(absl::ToUnixSeconds(t));
    return ts;
  }

  std::string Steps(const std::string& id) {
    return env_.Sql("SELECT count(*) FROM problem_case_steps WHERE case_id = '" + id + "'");
  }
  bool AllDelivered() { return env_.Sql("SELECT count(*) FROM awards WHERE status = 1") == "0"; }

  ActivityTestEnv env_;
  std::string first_id_, first_, second_id_, second_;
  std::string team_, team_staff_, other_team_, other_team_staff_;
  int keys_ = 0;
};

TEST_F(ProblemCaseTest, TheBlockedPavementIsReportedAssignedFixedAndItsFirstReporterRewarded) {
  const v1::ServiceRecord first = Reported(first_, 0);
  ASSERT_FALSE(first.problem_case_id().empty());
  const std::string id = first.problem_case_id();
  // A second rider's report 20 m away joins the case; one 100 m away is another problem.
  const v1::ServiceRecord second = Reported(second_, 20);
  EXPECT_EQ(second.problem_case_id(), id);
  const v1::ServiceRecord far = Reported(second_, 100);
  EXPECT_NE(far.problem_case_id(), id);
  // So is a report of another kind on the same spot.
  EXPECT_NE(Reported(second_, 0, v1::SERVICE_RECORD_KIND_SANITATION).problem_case_id(), id);

  v1::ProblemCase c;
  ASSERT_TRUE(Get(first_, id, &c).ok());
  EXPECT_EQ(c.status(), v1::PROBLEM_CASE_STATUS_OPEN);
  EXPECT_EQ(c.report_count(), 2);
  EXPECT_EQ(c.reporter_id(), first_id_);
  ASSERT_EQ(c.steps_size(), 2);
  EXPECT_EQ(c.steps(0).kind(), v1::PROBLEM_CASE_STEP_KIND_OPENED);
  EXPECT_EQ(c.steps(1).kind(), v1::PROBLEM_CASE_STEP_KIND_REPORT_LINKED);
  EXPECT_TRUE(c.steps(1).actor_id().empty()) << "riders do not see which staff member acted";
  // The second reporter follows the case but is not told who was first.
  ASSERT_TRUE(Get(second_, id, &c).ok());
  EXPECT_TRUE(c.reporter_id().empty());

  ASSERT_TRUE(Assign(env_.street_staff, Assignment(id, team_), &c).ok());
  EXPECT_EQ(c.status(), v1::PROBLEM_CASE_STATUS_ASSIGNED);
  EXPECT_EQ(c.department_id(), team_);
  EXPECT_EQ(c.notice_number(), "清远执法〔2026〕第118号");
  EXPECT_FALSE(c.overdue());
  // The same assignment again is a retry.
  ASSERT_TRUE(Assign(env_.street_staff, Assignment(id, team_), &c).ok());
  EXPECT_EQ(Steps(id), "3");

  // The department sees its queue, records progress (a retry is answered once) and closes.
  v1::ListProblemCasesRequest queue;
  queue.set_department_id(team_);
  v1::ListProblemCasesResponse listed;
  ASSERT_TRUE(env_.stub().ListProblemCases(env_.With(team_staff_).get(), queue, &listed).ok());
  ASSERT_EQ(listed.problem_cases_size(), 1);
  EXPECT_EQ(listed.problem_cases(0).case_id(), id);
  ASSERT_TRUE(Progress(team_staff_, id, "已向车行下达整改通知书", "p-1").ok());
  ASSERT_TRUE(Progress(team_staff_, id, "已向车行下达整改通知书", "p-1").ok());
  EXPECT_EQ(Steps(id), "4");
  ASSERT_TRUE(Close(team_staff_, Closing(id), &c).ok());
  EXPECT_EQ(c.status(), v1::PROBLEM_CASE_STATUS_CLOSED);
  EXPECT_EQ(c.outcome(), v1::PROBLEM_CASE_OUTCOME_FIXED);
  EXPECT_EQ(c.after_photo().ref(), "uploads/2026/12/pavement-clear.jpg");
  ASSERT_TRUE(Get(env_.street_staff, id, &c).ok());  // the bonus is the area staff's to see
  EXPECT_EQ(c.bonus().rider_id(), first_id_);
  EXPECT_EQ(c.bonus().points(), 5);
  EXPECT_EQ(c.bonus().idempotency_key(), "problem-case/" + id);
  // Closing again the same way is a retry; anything else after closing is refused.
  ASSERT_TRUE(Close(team_staff_, Closing(id)).ok());
  v1::CloseProblemCaseRequest other = Closing(id);
  other.set_outcome(v1::PROBLEM_CASE_OUTCOME_NOT_FIXED);
  grpc::Status s = Close(team_staff_, other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "CASE_CLOSED");
  s = Assign(env_.street_staff, Assignment(id, team_));
  EXPECT_EQ(ReasonOf(s), "CASE_CLOSED") << "a closed case is not reopened by a new assignment";
  EXPECT_EQ(ReasonOf(Progress(team_staff_, id, "再看一眼", "p-2")), "CASE_CLOSED");
  EXPECT_EQ(Steps(id), "5");

  // The reporter's bonus reaches the ledger once, under its own source kind; the second reporter
  // has the points of their report only.
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries WHERE person_id = '" +
                              first_id_ + "' AND source_kind = 7 AND source_id = '" + id + "'"),
            1);
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries WHERE source_kind = 7"), 1);
  ASSERT_TRUE(Get(first_, id, &c).ok());
  EXPECT_EQ(c.bonus().status(), v1::AWARD_STATUS_AWARDED);
  ASSERT_TRUE(Get(second_, id, &c).ok());
  EXPECT_FALSE(c.has_bonus()) << "the bonus is the first reporter's to see";
}

TEST_F(ProblemCaseTest, EveryRefusalNamesItsProblemAndWritesNothing) {
  const std::string id = Reported(first_, 0).problem_case_id();
  ASSERT_FALSE(id.empty());
  const std::string steps = Steps(id);

  // Progress and closing need an assigned case.
  grpc::Status s = Progress(env_.street_staff, id, "先去看看", "early");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "CASE_NOT_ASSIGNED");
  EXPECT_EQ(ReasonOf(Close(env_.street_staff, Closing(id))), "CASE_NOT_ASSIGNED");

  // Assigning: to another street's department, to a community, by community staff, badly formed.
  s = Assign(env_.street_staff, Assignment(id, other_team_));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "DEPARTMENT_OUTSIDE_STREET");
  s = Assign(env_.street_staff, Assignment(id, env_.gongnong));
  EXPECT_EQ(ReasonOf(s), "WRONG_ORG_LEVEL");
  s = Assign(env_.west_staff, Assignment(id, team_));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::AssignProblemCaseRequest bad = Assignment(id, team_);
  *bad.mutable_deadline() = Timestamp(absl::Now() - absl::Hours(1));
  s = Assign(env_.street_staff, bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("deadline"), std::string::npos) << s.error_message();
  *bad.mutable_deadline() = Timestamp(absl::Now() + absl::Hours(24 * 91));
  EXPECT_EQ(Assign(env_.street_staff, bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = Assignment(id, team_);
  bad.clear_notice_number();
  s = Assign(env_.street_staff, bad);
  EXPECT_NE(s.error_message().find("notice_number"), std::string::npos) << s.error_message();
  EXPECT_EQ(Steps(id), steps);

  ASSERT_TRUE(Assign(env_.street_staff, Assignment(id, team_)).ok());
  // Another street's department cannot work on it, nor read it.
  s = Progress(other_team_staff_, id, "不是我们的", "x-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::ProblemCase c;
  EXPECT_EQ(Get(other_team_staff_, id, &c).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A rider who reported nothing of it does not find it.
  auto [stranger_id, stranger] = env_.Rider(env_.gongnong);
  EXPECT_EQ(Get(stranger, id, &c).error_code(), grpc::StatusCode::NOT_FOUND);
  // Closing without a note, or as fixed without an after-photo.
  v1::CloseProblemCaseRequest close = Closing(id);
  close.clear_note();
  s = Close(team_staff_, close);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("note"), std::string::npos) << s.error_message();
  close = Closing(id);
  close.clear_after_photo();
  s = Close(team_staff_, close);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("after_photo"), std::string::npos) << s.error_message();
  close = Closing(id);
  close.set_outcome(v1::PROBLEM_CASE_OUTCOME_UNSPECIFIED);
  EXPECT_EQ(Close(team_staff_, close).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Steps(id), "2");
  EXPECT_EQ(env_.Sql("SELECT status FROM problem_cases WHERE case_id = '" + id + "'"), "2");
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM awards WHERE source_kind = 4"), "0");

  // Closed without a fix: final, and no bonus.
  close = Closing(id);
  close.set_outcome(v1::PROBLEM_CASE_OUTCOME_NOT_FIXED);
  close.clear_after_photo();
  close.set_note("经核实为临时卸货，已离开");
  ASSERT_TRUE(Close(env_.street_staff, close, &c).ok());
  EXPECT_FALSE(c.has_bonus());
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM awards WHERE source_kind = 4"), "0");
}

TEST_F(ProblemCaseTest, DashboardsCountOpenOverdueAndClosedCasesAndListTheOverdue) {
  const std::string open = Reported(first_, 0).problem_case_id();
  const std::string late =
      Reported(first_, 0, v1::SERVICE_RECORD_KIND_SANITATION).problem_case_id();
  const std::string fixed =
      Reported(first_, 0, v1::SERVICE_RECORD_KIND_FACILITY_DAMAGE).problem_case_id();
  ASSERT_TRUE(Assign(env_.street_staff, Assignment(late, team_)).ok());
  ASSERT_TRUE(Assign(env_.street_staff, Assignment(fixed, team_)).ok());
  ASSERT_TRUE(Close(team_staff_, Closing(fixed)).ok());
  env_.Sql("UPDATE problem_cases SET deadline = now() - interval '1 hour' WHERE case_id = '" +
           late + "' RETURNING 1");

  v1::GetActivityStatsRequest req;
  req.set_org_id(env_.street);
  req.set_include_children(true);
  v1::GetActivityStatsResponse stats;
  ASSERT_TRUE(env_.stub().GetActivityStats(env_.With(env_.street_staff).get(), req, &stats).ok());
  EXPECT_EQ(stats.stats().problem_cases_open(), 2);
  EXPECT_EQ(stats.stats().problem_cases_overdue(), 1);
  EXPECT_EQ(stats.stats().problem_cases_closed(), 1);
  EXPECT_EQ(stats.stats().problem_cases_fixed(), 1);
  ASSERT_EQ(stats.children_size(), 2) << "a department is not one of the street's areas";
  for (const v1::ActivityStats& child : stats.children()) {
    EXPECT_EQ(child.problem_cases_open(), child.scope().org_id() == env_.west ? 2 : 0);
  }

  v1::ListProblemCasesRequest list;
  list.set_org_id(env_.west);
  list.set_overdue_only(true);
  v1::ListProblemCasesResponse listed;
  ASSERT_TRUE(env_.stub().ListProblemCases(env_.With(env_.west_staff).get(), list, &listed).ok());
  ASSERT_EQ(listed.problem_cases_size(), 1);
  EXPECT_EQ(listed.problem_cases(0).case_id(), late);
  EXPECT_TRUE(listed.problem_cases(0).overdue());
  // A rider lists the cases of their own reports, newest first, a page at a time.
  v1::ListProblemCasesRequest mine;
  mine.set_page_size(2);
  ASSERT_TRUE(env_.stub().ListProblemCases(env_.With(first_).get(), mine, &listed).ok());
  ASSERT_EQ(listed.problem_cases_size(), 2);
  EXPECT_EQ(listed.problem_cases(0).case_id(), fixed);
  ASSERT_FALSE(listed.next_page_token().empty());
  mine.set_page_token(listed.next_page_token());
  ASSERT_TRUE(env_.stub().ListProblemCases(env_.With(first_).get(), mine, &listed).ok());
  ASSERT_EQ(listed.problem_cases_size(), 1);
  EXPECT_EQ(listed.problem_cases(0).case_id(), open);
  ASSERT_TRUE(
      env_.stub()
          .ListProblemCases(env_.With(second_).get(), v1::ListProblemCasesRequest(), &listed)
          .ok());
  EXPECT_EQ(listed.problem_cases_size(), 0);
  // Staff name a node or a department.
  EXPECT_EQ(env_.stub()
                .ListProblemCases(env_.With(env_.west_staff).get(), v1::ListProblemCasesRequest(),
                                  &listed)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A department is beside the tree, not an area: named where an area is asked for, it is refused,
// rather than read as the area it serves (or, by its level, as the whole city).
TEST_F(ProblemCaseTest, ADepartmentIsNoAreaAndSeesNotWhoReported) {
  v1::ListServiceRecordsRequest records;
  records.set_org_id(team_);
  v1::ListServiceRecordsResponse listed;
  grpc::Status s =
      env_.stub().ListServiceRecords(env_.With(env_.street_staff).get(), records, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "WRONG_ORG_LEVEL");
  v1::GetActivityStatsRequest stats;
  stats.set_org_id(team_);
  v1::GetActivityStatsResponse figures;
  EXPECT_EQ(
      ReasonOf(env_.stub().GetActivityStats(env_.With(env_.street_staff).get(), stats, &figures)),
      "WRONG_ORG_LEVEL");
  v1::ListProblemCasesRequest cases;
  cases.set_org_id(team_);
  v1::ListProblemCasesResponse found;
  EXPECT_EQ(
      ReasonOf(env_.stub().ListProblemCases(env_.With(env_.street_staff).get(), cases, &found)),
      "WRONG_ORG_LEVEL");
  cases.set_org_id("");
  cases.set_department_id(env_.west);
  EXPECT_EQ(
      ReasonOf(env_.stub().ListProblemCases(env_.With(env_.street_staff).get(), cases, &found)),
      "WRONG_ORG_LEVEL");

  // The department works on the case without being told who reported it.
  const std::string id = Reported(first_, 0).problem_case_id();
  ASSERT_TRUE(Assign(env_.street_staff, Assignment(id, team_)).ok());
  v1::ProblemCase c;
  ASSERT_TRUE(Get(team_staff_, id, &c).ok());
  EXPECT_TRUE(c.reporter_id().empty());
  ASSERT_TRUE(Close(team_staff_, Closing(id), &c).ok());
  EXPECT_FALSE(c.has_bonus());
  ASSERT_TRUE(Get(env_.west_staff, id, &c).ok());
  EXPECT_EQ(c.reporter_id(), first_id_);
  EXPECT_EQ(c.bonus().rider_id(), first_id_);
}

}  // namespace
}  // namespace civicpoints::activity
