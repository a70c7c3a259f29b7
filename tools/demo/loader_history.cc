// The history behind the points: riders report their services and problems and log their duty
// shifts on the six days before the story's day; the community and street workers verify and
// confirm them, and activity's award relay carries each award to the ledger.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "tools/demo/history_plan.h"
#include "tools/demo/loader.h"

namespace civicpoints::demo {
namespace {

namespace av1 = activity::v1;
using Kind = HistoryItem::Kind;

void SetTime(google::protobuf::Timestamp* out, absl::Time t) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

common::v1::GeoPoint ItemLocation(const HistoryItem& item, const RiderSpec& rider) {
  common::v1::GeoPoint p;
  if (item.kind == Kind::kCleanup) {
    p = CleanupVenue().place.location();
  } else {
    // Somewhere along the demonstration street.
    const int step = (rider.index * 13 + item.day * 5 + item.slot) % kDemonstrationStreetCorners;
    p.set_latitude(40.0903);
    p.set_longitude(113.2790 + 0.00016 * step);
  }
  return p;
}

absl::StatusOr<ledger::v1::Account> Balance(GatewayClient* gw, const Session& staff,
                                            const std::string& person_id) {
  ledger::v1::GetBalanceRequest req;
  req.set_person_id(person_id);
  ledger::v1::GetBalanceResponse resp;
  RETURN_IF_ERROR(gw->Call(&LedgerStub::GetBalance, staff.token, req, &resp));
  return resp.account();
}

}  // namespace

absl::Status DemoLoader::LoadHistory() {
  const std::vector<RiderSpec>& riders = StoryRiders();
  history_loaded_.assign(riders.size(), false);
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  // The story's day is the day before the community was set up, so every item lies in the past
  // and within the week the API accepts late reports for.
  const absl::CivilDay story_day = absl::ToCivilDay(anchor_, shanghai) - 1;
  return ForEach(static_cast<int>(riders.size()), [&](int i) -> absl::Status {
    const RiderSpec& rider = riders[i];
    if (rider.points == 0) return absl::OkStatus();
    // Points ever awarded only grow (spending, deductions and reversals do not lower them), so a
    // rider who once reached the story's figure has their history, whatever happened since.
    ASSIGN_OR_RETURN(ledger::v1::Account account, Balance(gw_, community_, rider_ids_[i]));
    if (account.lifetime_earned() >= rider.points) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::string token, RiderToken(i));
    const Session& reviewer = Reviewer(i);
    const std::string& post_id = post_ids_.at(rider.post_kind);
    for (const HistoryItem& item : PlanHistory(rider)) {
      const absl::CivilDay day = story_day - (kHistoryDays - 1 - item.day);
      const ClockTime at = ItemStart(item);
      const absl::Time start = absl::FromCivil(
          absl::CivilMinute(day.year(), day.month(), day.day(), at.hour, at.minute), shanghai);
      const std::string key = absl::StrCat("demo-", rider.phone, "-", item.key);
      if (item.kind == Kind::kShift) {
        av1::LogDutyShiftRequest log;
        log.set_post_id(post_id);
        SetTime(log.mutable_start_time(), start);
        SetTime(log.mutable_end_time(), start + absl::Hours(2));
        log.set_summary(ItemDescription(item, rider));
        *log.mutable_location() = ItemLocation(item, rider);
        log.set_idempotency_key(key);
        av1::LogDutyShiftResponse logged;
        RETURN_IF_ERROR(gw_->Call(&ActivityStub::LogDutyShift, token, log, &logged));
        if (logged.shift().status() == av1::DUTY_SHIFT_STATUS_REJECTED) {
          return absl::FailedPreconditionError(
              absl::StrCat("shift ", logged.shift().shift_id(), " was rejected"));
        }
        av1::ConfirmDutyShiftRequest confirm;
        confirm.set_post_id(post_id);
        confirm.set_shift_id(logged.shift().shift_id());
        av1::ConfirmDutyShiftResponse confirmed;
        RETURN_IF_ERROR(
            gw_->Call(&ActivityStub::ConfirmDutyShift, reviewer.token, confirm, &confirmed));
      } else {
        av1::SubmitServiceRecordRequest submit;
        av1::ServiceRecord* r = submit.mutable_service_record();
        r->set_kind(item.record_kind);
        r->set_description(ItemDescription(item, rider));
        *r->mutable_location() = ItemLocation(item, rider);
        r->set_address(item.kind == Kind::kCleanup ? "平城区大西街1号（大西街一号小区）"
                                                   : "平城区清远西街");
        r->set_community_id(Community());
        SetTime(r->mutable_occur_time(), start);
        submit.set_idempotency_key(key);
        av1::SubmitServiceRecordResponse submitted;
        RETURN_IF_ERROR(gw_->Call(&ActivityStub::SubmitServiceRecord, token, submit, &submitted));
        av1::VerifyServiceRecordRequest verify;
        verify.set_service_record_id(submitted.service_record().service_record_id());
        verify.set_note(item.kind == Kind::kProblem ? "已转街道综合行政执法队整改，感谢反映。"
                                                    : "情况属实，感谢服务社区。");
        av1::VerifyServiceRecordResponse verified;
        RETURN_IF_ERROR(
            gw_->Call(&ActivityStub::VerifyServiceRecord, reviewer.token, verify, &verified));
      }
    }
    history_loaded_[i] = true;
    return absl::OkStatus();
  });
}

absl::Status DemoLoader::LoadPendingReports() {
  static constexpr const char* kReports[kPendingReports] = {
      "清远西街菜市场门口占道经营，早高峰骑手通行困难。",
      "清远西街与大西街路口有私搭的遮阳棚，挡住了路牌。",
      "小区东门的共享单车堆放在消防通道上。",
  };
  static constexpr av1::ServiceRecordKind kKinds[kPendingReports] = {
      av1::SERVICE_RECORD_KIND_ROAD_OCCUPATION, av1::SERVICE_RECORD_KIND_ILLEGAL_STRUCTURE,
      av1::SERVICE_RECORD_KIND_ROAD_OCCUPATION};
  // Sent with the history, on the load that wrote it: a later load of older stores would be
  // reporting something a week gone.
  if (std::none_of(history_loaded_.begin(), history_loaded_.end(), [](bool b) { return b; })) {
    return absl::OkStatus();
  }
  for (int i = 0; i < kPendingReports; ++i) {
    // Riders further down the ranking, so the top's figures stay the story's.
    const int rider = kRiderCount - 1 - i;
    ASSIGN_OR_RETURN(std::string token, RiderToken(rider));
    av1::SubmitServiceRecordRequest submit;
    av1::ServiceRecord* r = submit.mutable_service_record();
    r->set_kind(kKinds[i]);
    r->set_description(kReports[i]);
    r->mutable_location()->set_latitude(40.0937 + 0.0004 * i);
    r->mutable_location()->set_longitude(113.2956);
    r->set_address("平城区清远西街");
    r->set_community_id(Community());
    SetTime(r->mutable_occur_time(), anchor_ - absl::Hours(1 + i));
    submit.set_idempotency_key(absl::StrCat("demo-pending-report-", i));
    av1::SubmitServiceRecordResponse submitted;
    RETURN_IF_ERROR(gw_->Call(&ActivityStub::SubmitServiceRecord, token, submit, &submitted));
  }
  return absl::OkStatus();
}

// The story's own case: a shop's e-bikes block the road; a rider reports it, the community
// verifies, the street hands it to its enforcement team, which serves a notice, and the shop moves
// the bikes back inside; the reporter earns the bonus. Entered with the history, like the pending
// reports; each step is a retry on a second load, and a case already closed is left as it is.
absl::Status DemoLoader::LoadProblemCase() {
  if (std::none_of(history_loaded_.begin(), history_loaded_.end(), [](bool b) { return b; })) {
    return absl::OkStatus();
  }
  // A rider with no history, so the top's figures stay the story's.
  ASSIGN_OR_RETURN(std::string token, RiderToken(kCaseReporter));
  av1::SubmitServiceRecordRequest submit;
  av1::ServiceRecord* r = submit.mutable_service_record();
  r->set_kind(av1::SERVICE_RECORD_KIND_ROAD_OCCUPATION);
  r->set_description("清远西街一家车行把待售电动车摆满路边，占道经营，骑手和行人只能绕行。");
  // Away from the history's demonstration street, so it opens a case of its own.
  r->mutable_location()->set_latitude(40.0951);
  r->mutable_location()->set_longitude(113.2968);
  r->set_address("平城区清远西街车行门前");
  r->set_community_id(Community());
  SetTime(r->mutable_occur_time(), anchor_ - absl::Hours(30));
  r->add_attachments()->set_ref("demo/problem-case/bikes-on-road.jpg");
  submit.set_idempotency_key("demo-problem-case-report");
  av1::SubmitServiceRecordResponse submitted;
  RETURN_IF_ERROR(gw_->Call(&ActivityStub::SubmitServiceRecord, token, submit, &submitted));
  av1::VerifyServiceRecordRequest verify;
  verify.set_service_record_id(submitted.service_record().service_record_id());
  verify.set_note("情况属实，转街道综合行政执法队整改。");
  av1::VerifyServiceRecordResponse verified;
  RETURN_IF_ERROR(
      gw_->Call(&ActivityStub::VerifyServiceRecord, community_.token, verify, &verified));
  const std::string case_id = verified.service_record().problem_case_id();
  av1::GetProblemCaseRequest get;
  get.set_case_id(case_id);
  av1::GetProblemCaseResponse found;
  RETURN_IF_ERROR(gw_->Call(&ActivityStub::GetProblemCase, street_.token, get, &found));
  if (found.problem_case().status() == av1::PROBLEM_CASE_STATUS_CLOSED) return absl::OkStatus();
  if (found.problem_case().status() == av1::PROBLEM_CASE_STATUS_OPEN) {
    av1::AssignProblemCaseRequest assign;
    assign.set_case_id(case_id);
    assign.set_department_id(Org(kQingyuanTeamCode));
    assign.set_notice_number("平清执法〔2026〕第118号");
    SetTime(assign.mutable_deadline(), absl::Now() + absl::Hours(72));
    assign.set_note("请督促车行三日内将电动车移回店内。");
    av1::AssignProblemCaseResponse assigned;
    RETURN_IF_ERROR(gw_->Call(&ActivityStub::AssignProblemCase, street_.token, assign, &assigned));
  }
  av1::RecordProblemCaseProgressRequest progress;
  progress.set_case_id(case_id);
  progress.set_note("已向车行下达责令整改通知书，店主承诺当天整改。");
  progress.set_idempotency_key("demo-problem-case-progress");
  av1::RecordProblemCaseProgressResponse progressed;
  RETURN_IF_ERROR(gw_->Call(&ActivityStub::RecordProblemCaseProgress, department_.token, progress,
                            &progressed));
  av1::CloseProblemCaseRequest close;
  close.set_case_id(case_id);
  close.set_outcome(av1::PROBLEM_CASE_OUTCOME_FIXED);
  close.set_note("车行已将电动车搬回店铺，道路恢复通行。");
  close.mutable_after_photo()->set_ref("demo/problem-case/road-clear.jpg");
  av1::CloseProblemCaseResponse closed;
  return gw_->Call(&ActivityStub::CloseProblemCase, department_.token, close, &closed);
}

absl::Status DemoLoader::AwaitAwards() {
  const std::vector<RiderSpec>& riders = StoryRiders();
  std::vector<int> waiting;
  for (const RiderSpec& r : riders) {
    if (r.points > 0) waiting.push_back(r.index);
  }
  const absl::Time deadline = absl::Now() + opt_.award_wait;
  while (true) {
    std::vector<int> still;
    for (int i : waiting) {
      ASSIGN_OR_RETURN(ledger::v1::Account account, Balance(gw_, community_, rider_ids_[i]));
      if (account.lifetime_earned() < riders[i].points) {
        still.push_back(i);
      } else if (history_loaded_[i] && account.net_earned() != riders[i].points) {
        return absl::InternalError(
            absl::StrCat(riders[i].display_name, " holds ", account.net_earned(),
                         " points after the history, not ", riders[i].points));
      }
    }
    if (still.empty()) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(still.size(), " riders' awards had not reached the ledger after ",
                       absl::FormatDuration(opt_.award_wait),
                       " (is the award relay running?), e.g. ", riders[still[0]].display_name));
    }
    waiting = std::move(still);
    absl::SleepFor(absl::Milliseconds(300));
  }
}

}  // namespace civicpoints::demo
