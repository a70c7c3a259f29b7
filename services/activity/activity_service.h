// ActivityServiceImpl: the gRPC handlers of civicpoints.activity.v1.ActivityService. Each method
// file (`*_methods.cc`) holds one area; methods not overridden here answer UNIMPLEMENTED from the
// generated base class.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_SERVICE_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "common/pg/throttle.h"
#include "common/pg/transactions.h"
#include "services/activity/pg_attendance_store.h"
#include "services/activity/pg_place_store.h"
#include "services/activity/pg_points_rules.h"
#include "services/activity/pg_post_store.h"
#include "services/activity/pg_problem_case_store.h"
#include "services/activity/pg_service_record_store.h"
#include "services/activity/pg_shift_store.h"
#include "services/activity/support.h"

namespace civicpoints::auth {
class Authorizer;
}
namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::activity {

class PlaceIndex;

class AwardRelay;
class Directory;

class ActivityServiceImpl final : public v1::ActivityService::Service {
 public:
  // All pointers must outlive the service; `relay` may be null (awards wait for its next pass).
  // A new activity must start at least `min_start_lead` after it is created or moved, so riders
  // can enrol (setting CP_ACTIVITY_MIN_START_LEAD).
  ActivityServiceImpl(pg::PgPool* pool, const auth::Authorizer* authorizer, Directory* directory,
                      AwardRelay* relay, absl::Duration min_start_lead = absl::Minutes(10));
  ~ActivityServiceImpl() override;

  // ---- Places (place_methods.cc) ----
  grpc::Status CreatePlace(grpc::ServerContext* ctx, const v1::CreatePlaceRequest* req,
                           v1::CreatePlaceResponse* resp) override;
  grpc::Status GetPlace(grpc::ServerContext* ctx, const v1::GetPlaceRequest* req,
                        v1::GetPlaceResponse* resp) override;
  grpc::Status UpdatePlace(grpc::ServerContext* ctx, const v1::UpdatePlaceRequest* req,
                           v1::UpdatePlaceResponse* resp) override;
  grpc::Status DeletePlace(grpc::ServerContext* ctx, const v1::DeletePlaceRequest* req,
                           v1::DeletePlaceResponse* resp) override;
  grpc::Status ListPlaces(grpc::ServerContext* ctx, const v1::ListPlacesRequest* req,
                          v1::ListPlacesResponse* resp) override;
  grpc::Status SearchNearbyPlaces(grpc::ServerContext* ctx,
                                  const v1::SearchNearbyPlacesRequest* req,
                                  v1::SearchNearbyPlacesResponse* resp) override;

  // ---- Governance posts and duty shifts (post_methods.cc, shift_methods.cc) ----
  grpc::Status ListPostKinds(grpc::ServerContext* ctx, const v1::ListPostKindsRequest* req,
                             v1::ListPostKindsResponse* resp) override;
  grpc::Status CreatePost(grpc::ServerContext* ctx, const v1::CreatePostRequest* req,
                          v1::CreatePostResponse* resp) override;
  grpc::Status GetPost(grpc::ServerContext* ctx, const v1::GetPostRequest* req,
                       v1::GetPostResponse* resp) override;
  grpc::Status UpdatePost(grpc::ServerContext* ctx, const v1::UpdatePostRequest* req,
                          v1::UpdatePostResponse* resp) override;
  grpc::Status ClosePost(grpc::ServerContext* ctx, const v1::ClosePostRequest* req,
                         v1::ClosePostResponse* resp) override;
  grpc::Status ListPosts(grpc::ServerContext* ctx, const v1::ListPostsRequest* req,
                         v1::ListPostsResponse* resp) override;
  grpc::Status ClaimPost(grpc::ServerContext* ctx, const v1::ClaimPostRequest* req,
                         v1::ClaimPostResponse* resp) override;
  grpc::Status ApprovePostClaim(grpc::ServerContext* ctx, const v1::ApprovePostClaimRequest* req,
                                v1::ApprovePostClaimResponse* resp) override;
  grpc::Status RejectPostClaim(grpc::ServerContext* ctx, const v1::RejectPostClaimRequest* req,
                               v1::RejectPostClaimResponse* resp) override;
  grpc::Status WithdrawPostClaim(grpc::ServerContext* ctx, const v1::WithdrawPostClaimRequest* req,
                                 v1::WithdrawPostClaimResponse* resp) override;
  grpc::Status ListPostClaims(grpc::ServerContext* ctx, const v1::ListPostClaimsRequest* req,
                              v1::ListPostClaimsResponse* resp) override;
  grpc::Status LogDutyShift(grpc::ServerContext* ctx, const v1::LogDutyShiftRequest* req,
                            v1::LogDutyShiftResponse* resp) override;
  grpc::Status ConfirmDutyShift(grpc::ServerContext* ctx, const v1::ConfirmDutyShiftRequest* req,
                                v1::ConfirmDutyShiftResponse* resp) override;
  grpc::Status RejectDutyShift(grpc::ServerContext* ctx, const v1::RejectDutyShiftRequest* req,
                               v1::RejectDutyShiftResponse* resp) override;
  grpc::Status ListDutyShifts(grpc::ServerContext* ctx, const v1::ListDutyShiftsRequest* req,
                              v1::ListDutyShiftsResponse* resp) override;

  // ---- Service records (service_record_methods.cc) ----
  grpc::Status SubmitServiceRecord(grpc::ServerContext* ctx,
                                   const v1::SubmitServiceRecordRequest* req,
                                   v1::SubmitServiceRecordResponse* resp) override;
  grpc::Status GetServiceRecord(grpc::ServerContext* ctx, const v1::GetServiceRecordRequest* req,
                                v1::GetServiceRecordResponse* resp) override;
  grpc::Status ListServiceRecords(grpc::ServerContext* ctx,
                                  const v1::ListServiceRecordsRequest* req,
                                  v1::ListServiceRecordsResponse* resp) override;
  grpc::Status VerifyServiceRecord(grpc::ServerContext* ctx,
                                   const v1::VerifyServiceRecordRequest* req,
                                   v1::VerifyServiceRecordResponse* resp) override;
  grpc::Status RejectServiceRecord(grpc::ServerContext* ctx,
                                   const v1::RejectServiceRecordRequest* req,
                                   v1::RejectServiceRecordResponse* resp) override;
  grpc::Status AppealServiceRecord(grpc::ServerContext* ctx,
                                   const v1::AppealServiceRecordRequest* req,
                                   v1::AppealServiceRecordResponse* resp) override;
  grpc::Status DecideServiceRecordAppeal(grpc::ServerContext* ctx,
                                         const v1::DecideServiceRecordAppealRequest* req,
                                         v1::DecideServiceRecordAppealResponse* resp) override;

  // ---- Problem cases (problem_case_methods.cc) ----
  grpc::Status GetProblemCase(grpc::ServerContext* ctx, const v1::GetProblemCaseRequest* req,
                              v1::GetProblemCaseResponse* resp) override;
  grpc::Status ListProblemCases(grpc::ServerContext* ctx, const v1::ListProblemCasesRequest* req,
                                v1::ListProblemCasesResponse* resp) override;
  grpc::Status AssignProblemCase(grpc::ServerContext* ctx, const v1::AssignProblemCaseRequest* req,
                                 v1::AssignProblemCaseResponse* resp) override;
  grpc::Status RecordProblemCaseProgress(grpc::ServerContext* ctx,
                                         const v1::RecordProblemCaseProgressRequest* req,
                                         v1::RecordProblemCaseProgressResponse* resp) override;
  grpc::Status CloseProblemCase(grpc::ServerContext* ctx, const v1::CloseProblemCaseRequest* req,
                                v1::CloseProblemCaseResponse* resp) override;

  // ---- Statistics (stats_methods.cc, activity_stats_methods.cc) ----
  grpc::Status GetActivityStats(grpc::ServerContext* ctx, const v1::GetActivityStatsRequest* req,
                                v1::GetActivityStatsResponse* resp) override;
  grpc::Status GetPlaceCoverageStats(grpc::ServerContext* ctx,
                                     const v1::GetPlaceCoverageStatsRequest* req,
                                     v1::GetPlaceCoverageStatsResponse* resp) override;

  // ---- Activities (activity_methods.cc, check_in_methods.cc) ----
  grpc::Status CreateActivity(grpc::ServerContext* ctx, const v1::CreateActivityRequest* req,
                              v1::CreateActivityResponse* resp) override;
  grpc::Status RecordPastActivity(grpc::ServerContext* ctx,
                                  const v1::RecordPastActivityRequest* req,
                                  v1::RecordPastActivityResponse* resp) override;
  grpc::Status GetActivity(grpc::ServerContext* ctx, const v1::GetActivityRequest* req,
                           v1::GetActivityResponse* resp) override;
  grpc::Status UpdateActivity(grpc::ServerContext* ctx, const v1::UpdateActivityRequest* req,
                              v1::UpdateActivityResponse* resp) override;
  grpc::Status CancelActivity(grpc::ServerContext* ctx, const v1::CancelActivityRequest* req,
                              v1::CancelActivityResponse* resp) override;
  grpc::Status ListActivities(grpc::ServerContext* ctx, const v1::ListActivitiesRequest* req,
                              v1::ListActivitiesResponse* resp) override;
  grpc::Status EnrolInActivity(grpc::ServerContext* ctx, const v1::EnrolInActivityRequest* req,
                               v1::EnrolInActivityResponse* resp) override;
  grpc::Status WithdrawEnrolment(grpc::ServerContext* ctx, const v1::WithdrawEnrolmentRequest* req,
                                 v1::WithdrawEnrolmentResponse* resp) override;
  grpc::Status ListEnrolments(grpc::ServerContext* ctx, const v1::ListEnrolmentsRequest* req,
                              v1::ListEnrolmentsResponse* resp) override;
  grpc::Status GetCheckInCode(grpc::ServerContext* ctx, const v1::GetCheckInCodeRequest* req,
                              v1::GetCheckInCodeResponse* resp) override;
  grpc::Status CheckInToActivity(grpc::ServerContext* ctx, const v1::CheckInToActivityRequest* req,
                                 v1::CheckInToActivityResponse* resp) override;
  grpc::Status CheckInRider(grpc::ServerContext* ctx, const v1::CheckInRiderRequest* req,
                            v1::CheckInRiderResponse* resp) override;
  grpc::Status ConfirmAttendance(grpc::ServerContext* ctx, const v1::ConfirmAttendanceRequest* req,
                                 v1::ConfirmAttendanceResponse* resp) override;
  grpc::Status RejectAttendance(grpc::ServerContext* ctx, const v1::RejectAttendanceRequest* req,
                                v1::RejectAttendanceResponse* resp) override;

  // ---- Points rules and awards (rules_methods.cc) ----
  grpc::Status GetPointsRules(grpc::ServerContext* ctx, const v1::GetPointsRulesRequest* req,
                              v1::GetPointsRulesResponse* resp) override;
  grpc::Status UpdatePointsRules(grpc::ServerContext* ctx, const v1::UpdatePointsRulesRequest* req,
                                 v1::UpdatePointsRulesResponse* resp) override;
  grpc::Status ResolveEffectivePointsRules(grpc::ServerContext* ctx,
                                           const v1::ResolveEffectivePointsRulesRequest* req,
                                           v1::ResolveEffectivePointsRulesResponse* resp) override;
  grpc::Status ListAwards(grpc::ServerContext* ctx, const v1::ListAwardsRequest* req,
                          v1::ListAwardsResponse* resp) override;

 private:
  using Body = std::function<absl::Status(const Caller&)>;
  // Authorizes the call to `method` and runs `body`; the only place grpc::Status is made.
  grpc::Status Handle(grpc::ServerContext* ctx, const char* method, const Body& body);

  absl::Status InTx(absl::string_view what, const pg::TxBody& body);
  absl::Status InReadTx(absl::string_view what, const pg::TxBody& body);
  // Runs `body` once per (method, caller, key); see pg::RunIdempotent.
  absl::Status Idempotent(const Caller& caller, absl::string_view method, const std::string& key,
                          const google::protobuf::Message& request,
                          google::protobuf::Message* response, const pg::TxBody& body);

  // Service records: the award of a verified record, written in the verifying transaction; and
  // the path its points count under (the rider's home community, else the record's community),
  // asked of identity before that transaction.
  absl::Status AwardServiceRecord(pqxx::transaction_base& tx, const Caller& caller,
                                  const v1::ServiceRecord& record, absl::Time occur,
                                  const common::v1::OrgPath& rider_path);
  absl::StatusOr<common::v1::OrgPath> RiderPathOfRecord(const std::string& record_id);
  struct RecordReview {
    std::string record_id;
    v1::ServiceRecordStatus outcome;  // VERIFIED or REJECTED
    std::string note;                 // the verification's note or the rejection's reason
    common::v1::OrgPath rider_path;   // where a verification's points count
  };
  // Verifies or rejects the record under its row lock (review_rules.h), writing a verification's
  // award; fills `out` with the record as it stands and sets `applied` when this call changed it.
  absl::Status ReviewServiceRecord(pqxx::transaction_base& tx, const Caller& caller,
                                   const RecordReview& review, v1::ServiceRecord* out,
                                   bool* applied);

  // Problem cases: a verified problem report (seen at `seen`) opens a case or joins an open one
  // of its kind nearby, in the verifying transaction; services open none.
  absl::Status OpenOrJoinCase(pqxx::transaction_base& tx, const Caller& caller,
                              const v1::ServiceRecord& record, absl::Time seen);
  // `row` as the caller may see it (the bonus and the first reporter for staff and that reporter;
  // who did what for staff), with its history when `with_steps`.
  void FillCaseFor(pqxx::transaction_base& tx, const Caller& caller, PgProblemCaseStore::Row row,
                   bool with_steps, v1::ProblemCase* out);

  // Confirming attendance (attendance.cc; its rules in attendance_rules.h). The home path of each
  // of `riders` as identity knows it (an empty path for one it does not know).
  using RiderHomes = std::map<std::string, common::v1::OrgPath>;
  absl::StatusOr<RiderHomes> HomesOf(const std::vector<std::string>& riders);
  // Confirms the attendance `req` asks for (`named`: its riders, checked) under the activity's
  // lock, writing each rider's award, and fills `resp`.
  absl::Status ConfirmIn(pqxx::transaction_base& tx, const Caller& caller,
                         const v1::ConfirmAttendanceRequest& req,
                         const std::vector<std::string>& named, const RiderHomes& homes,
                         v1::ConfirmAttendanceResponse* resp);

  // Reviewing duty shifts (duty_shifts.cc; its rules in review_rules.h). The home path of the
  // rider who logged the shift, asked of identity before the review's transaction (empty when
  // the shift is missing, the caller's own, or its rider is unknown to identity).
  absl::StatusOr<common::v1::OrgPath> HomeOfShiftRider(const Caller& caller,
                                                       const std::string& post_id,
                                                       const std::string& shift_id);
  struct ShiftReview {
    std::string post_id, shift_id;
    v1::DutyShiftStatus outcome;  // CONFIRMED or REJECTED
    std::string reject_reason;
    common::v1::OrgPath rider_home;  // where a confirmation's points count (empty: at the post)
  };
  // Confirms or rejects the shift under its row lock, writing a confirmation's award; fills `out`
  // with the shift as it stands and sets `applied` when this call changed it.
  absl::Status ReviewShift(pqxx::transaction_base& tx, const Caller& caller,
                           const ShiftReview& review, v1::DutyShift* out, bool* applied);

  // Tells the relay new awards wait.
  void NudgeRelay();

  pg::PgPool* pool_;
  pg::Throttle throttle_;  // wrong check-in codes per rider and activity
  const PgAttendanceStore attendance_{};
  const PgPlaceStore places_{};
  // Every open place in memory for SearchNearbyPlaces, kept current from the table's change
  // numbers (place_index.h).
  std::unique_ptr<PlaceIndex> place_index_;
  const PgPointsRulesStore points_rules_{};
  const PgPostStore posts_{};
  const PgShiftStore shifts_{};
  const PgServiceRecordStore records_{};
  const PgProblemCaseStore cases_{};
  const auth::Authorizer* authorizer_;
  Directory* directory_;
  AwardRelay* relay_;
  const absl::Duration min_start_lead_;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_ACTIVITY_SERVICE_H_
