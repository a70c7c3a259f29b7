// Service records on real identity and ledger: submit, review within the community's scope,
// the one appeal decided at the street, the award of a verified record reaching the ledger once,
// and every refusal the contract names (none of which writes anything).
#include <gtest/gtest.h>

#include "civicpoints/activity/v1/events.pb.h"

#include "absl/strings/str_cat.h"
#include "services/activity/activity_test_env.h"

namespace civicpoints::activity {
namespace {

class ServiceRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.ok());
    std::tie(rider_id_, rider_) = env_.Rider(env_.west);
  }

  v1::ServiceRecord Draft() {
    v1::ServiceRecord r;
    r.set_kind(v1::SERVICE_RECORD_KIND_ROAD_OCCUPATION);
    r.set_description("清远西街菜市场门口占道经营，影响通行");
    r.mutable_location()->set_latitude(40.0937);
    r.mutable_location()->set_longitude(113.2956);
    r.set_address("清远西街12号");
    r.set_community_id(env_.west);
    auto* photo = r.add_attachments();
    photo->set_ref("uploads/2026/11/road-1.jpg");
    photo->set_content_type("image/jpeg");
    return r;
  }

  grpc::Status Submit(const std::string& token, const v1::ServiceRecord& r,
                      v1::ServiceRecord* out = nullptr, const std::string& key = "") {
    v1::SubmitServiceRecordRequest req;
    *req.mutable_service_record() = r;
    req.set_idempotency_key(key.empty() ? absl::StrCat("sr-", ++keys_) : key);
    v1::SubmitServiceRecordResponse resp;
    grpc::Status s = env_.stub().SubmitServiceRecord(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.service_record();
    return s;
  }

  std::string Submitted() {
    v1::ServiceRecord r;
    EXPECT_TRUE(Submit(rider_, Draft(), &r).ok());
    return r.service_record_id();
  }

  grpc::Status Verify(const std::string& token, const std::string& id,
                      v1::ServiceRecord* out = nullptr) {
    v1::VerifyServiceRecordRequest req;
    req.set_service_record_id(id);
    req.set_note("已核实，感谢");
    v1::VerifyServiceRecordResponse resp;
    grpc::Status s = env_.stub().VerifyServiceRecord(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.service_record();
    return s;
  }

  grpc::Status Reject(const std::string& token, const std::string& id) {
    v1::RejectServiceRecordRequest req;
    req.set_service_record_id(id);
    req.set_reason("照片看不出占道");
    v1::RejectServiceRecordResponse resp;
    return env_.stub().RejectServiceRecord(env_.With(token).get(), req, &resp);
  }

  grpc::Status Appeal(const std::string& id, const std::string& reason) {
    v1::AppealServiceRecordRequest req;
    req.set_service_record_id(id);
    req.set_reason(reason);
    v1::AppealServiceRecordResponse resp;
    return env_.stub().AppealServiceRecord(env_.With(rider_).get(), req, &resp);
  }

  grpc::Status Decide(const std::string& token, const std::string& id, v1::AppealDecision d,
                      v1::ServiceRecord* out = nullptr) {
    v1::DecideServiceRecordAppealRequest req;
    req.set_service_record_id(id);
    req.set_decision(d);
    req.set_reason("复核结果");
    v1::DecideServiceRecordAppealResponse resp;
    grpc::Status s = env_.stub().DecideServiceRecordAppeal(env_.With(token).get(), req, &resp);
    if (out != nullptr) *out = resp.service_record();
    return s;
  }

  int64_t Balance(const std::string& rider) {
    return env_.ledger().Sql(
        "SELECT COALESCE(sum(available), 0) FROM ledger.accounts WHERE person_id = '" + rider +
        "'");
  }
  bool AllDelivered() { return env_.Sql("SELECT count(*) FROM awards WHERE status = 1") == "0"; }

  ActivityTestEnv env_;
  std::string rider_id_, rider_;
  int keys_ = 0;
};

// The bytes of a bytea column read as text ("\\x0a12…").
std::string UnescapeBytea(const std::string& text) {
  std::string out;
  for (size_t i = 2; i + 1 < text.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16)));
  }
  return out;
}

TEST_F(ServiceRecordTest, ARiderReportsAndOnlyTheirCommunityVerifiesOnceForOneAward) {
  v1::ServiceRecord r;
  ASSERT_TRUE(Submit(rider_, Draft(), &r, "report-1").ok());
  EXPECT_EQ(r.status(), v1::SERVICE_RECORD_STATUS_SUBMITTED);
  EXPECT_EQ(r.rider_id(), rider_id_);
  EXPECT_EQ(r.org_path().street_id(), env_.street);
  EXPECT_EQ(r.attachments_size(), 1);
  // The same submission retried is the same record.
  v1::ServiceRecord again;
  ASSERT_TRUE(Submit(rider_, Draft(), &again, "report-1").ok());
  EXPECT_EQ(again.service_record_id(), r.service_record_id());
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM service_records"), "1");

  // Another community's staff may not review it; another rider does not see it.
  EXPECT_EQ(Verify(env_.gongnong_staff, r.service_record_id()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string other = env_.Rider(env_.west).second;
  v1::GetServiceRecordRequest get;
  get.set_service_record_id(r.service_record_id());
  v1::GetServiceRecordResponse got;
  EXPECT_EQ(env_.stub().GetServiceRecord(env_.With(other).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::ServiceRecord verified;
  ASSERT_TRUE(Verify(env_.west_staff, r.service_record_id(), &verified).ok());
  EXPECT_EQ(verified.status(), v1::SERVICE_RECORD_STATUS_VERIFIED);
  EXPECT_EQ(verified.award().points(), 3);  // the default for a problem reported
  EXPECT_EQ(verified.award().idempotency_key(),
            absl::StrCat("service-record/", r.service_record_id()));
  // Verifying again changes nothing; rejecting a verified record is refused.
  ASSERT_TRUE(Verify(env_.street_staff, r.service_record_id(), &verified).ok());
  EXPECT_EQ(Reject(env_.west_staff, r.service_record_id()).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_EQ(Balance(rider_id_), 3);
  EXPECT_EQ(env_.ledger().Sql("SELECT count(*) FROM ledger.entries"), 1);

  // The rider sees it with its award.
  ASSERT_TRUE(env_.stub().GetServiceRecord(env_.With(rider_).get(), get, &got).ok());
  EXPECT_EQ(got.service_record().award().status(), v1::AWARD_STATUS_AWARDED);

  // One event per change that happened (the retries and the repeated verify add none), in order,
  // at the record's community, carrying ids and points only.
  EXPECT_EQ(env_.Sql("SELECT string_agg(type, ' ' ORDER BY seq) FROM outbox_events"),
            "civicpoints.activity.v1.service_record_submitted "
            "civicpoints.activity.v1.service_record_verified");
  v1::ServiceRecordChanged data;
  ASSERT_TRUE(data.ParseFromString(
      UnescapeBytea(env_.Sql("SELECT data FROM outbox_events WHERE type LIKE '%verified'"))));
  EXPECT_EQ(data.service_record_id(), r.service_record_id());
  EXPECT_EQ(data.status(), v1::SERVICE_RECORD_STATUS_VERIFIED);
  EXPECT_EQ(data.points(), 3);
  EXPECT_EQ(env_.Sql("SELECT community_id || ' ' || subject FROM outbox_events WHERE type LIKE "
                     "'%verified'"),
            absl::StrCat(env_.west, " service-records/", r.service_record_id()));
}

TEST_F(ServiceRecordTest, BadReportsAreRefusedAndWriteNothing) {
  struct Case {
    const char* what;
    std::function<void(v1::ServiceRecord&)> spoil;
    grpc::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"no kind", [](v1::ServiceRecord& r) { r.clear_kind(); }, grpc::StatusCode::INVALID_ARGUMENT},
      {"no description", [](v1::ServiceRecord& r) { r.clear_description(); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"no location", [](v1::ServiceRecord& r) { r.clear_location(); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"off the globe", [](v1::ServiceRecord& r) { r.mutable_location()->set_longitude(200); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"in the future",
       [](v1::ServiceRecord& r) {
         SetTime(r.mutable_occur_time(), Us(absl::Now() + absl::Hours(1)));
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"too old",
       [](v1::ServiceRecord& r) {
         SetTime(r.mutable_occur_time(), Us(absl::Now() - absl::Hours(24 * 8)));
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"ten photos",
       [](v1::ServiceRecord& r) {
         for (int i = 0; i < 9; ++i) *r.add_attachments() = r.attachments(0);
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"bad checksum", [](v1::ServiceRecord& r) { r.mutable_attachments(0)->set_sha256("xyz"); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"no community", [](v1::ServiceRecord& r) { r.clear_community_id(); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"unknown community", [](v1::ServiceRecord& r) { r.set_community_id("org_none"); },
       grpc::StatusCode::NOT_FOUND},
  };
  for (const Case& c : cases) {
    v1::ServiceRecord r = Draft();
    c.spoil(r);
    grpc::Status s = Submit(rider_, r);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    EXPECT_FALSE(s.error_message().empty());
  }
  v1::ServiceRecord street = Draft();
  street.set_community_id(env_.street);
  EXPECT_EQ(Submit(rider_, street).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::SubmitServiceRecordRequest no_key;
  *no_key.mutable_service_record() = Draft();
  v1::SubmitServiceRecordResponse resp;
  EXPECT_EQ(env_.stub().SubmitServiceRecord(env_.With(rider_).get(), no_key, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Staff cannot report (the role policy), and nothing was written by anyone.
  EXPECT_EQ(Submit(env_.west_staff, Draft()).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM service_records"), "0");
}

TEST_F(ServiceRecordTest, TwentyReportsADayAndNoMore) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Submit(rider_, Draft()).ok()) << i;
  grpc::Status s = Submit(rider_, Draft());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("tomorrow"), std::string::npos);
  EXPECT_EQ(env_.Sql("SELECT count(*) FROM service_records"), "20");
}

TEST_F(ServiceRecordTest, ARejectionIsAppealedOnceAndTheStreetDecides) {
  const std::string upheld = Submitted();
  const std::string denied = Submitted();
  const std::string late = Submitted();
  const std::string pending = Submitted();
  for (const std::string* id : {&upheld, &denied, &late}) {
    ASSERT_TRUE(Reject(env_.west_staff, *id).ok());
    ASSERT_TRUE(Reject(env_.west_staff, *id).ok());  // again: unchanged
  }
  // Only a rejected record can be appealed, once, within 7 days.
  EXPECT_EQ(Appeal(pending, "我有证据").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  env_.Sql(
      "UPDATE service_records SET reviewed_at = now() - interval '8 days' "
      "WHERE service_record_id = '" +
      late + "'");
  grpc::Status s = Appeal(late, "我有证据");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("7 days"), std::string::npos) << s.error_message();
  ASSERT_TRUE(Appeal(upheld, "占道摊位当时确实存在，附视频").ok());
  ASSERT_TRUE(Appeal(upheld, "占道摊位当时确实存在，附视频").ok());  // repeated: unchanged
  EXPECT_EQ(Appeal(upheld, "换个理由").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Appeal(denied, "请复核").ok());

  // Community staff cannot decide; street staff can, and a decision is final.
  EXPECT_EQ(Decide(env_.west_staff, upheld, v1::APPEAL_DECISION_UPHOLD_APPEAL).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Decide(env_.street_staff, pending, v1::APPEAL_DECISION_UPHOLD_APPEAL).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::ServiceRecord record;
  ASSERT_TRUE(Decide(env_.street_staff, upheld, v1::APPEAL_DECISION_UPHOLD_APPEAL, &record).ok());
  EXPECT_EQ(record.status(), v1::SERVICE_RECORD_STATUS_VERIFIED);
  EXPECT_EQ(record.appeal().decision(), v1::APPEAL_DECISION_UPHOLD_APPEAL);
  EXPECT_EQ(record.award().points(), 3);
  ASSERT_TRUE(Decide(env_.street_staff, upheld, v1::APPEAL_DECISION_UPHOLD_APPEAL).ok());
  EXPECT_EQ(Decide(env_.street_staff, upheld, v1::APPEAL_DECISION_DENY_APPEAL).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Decide(env_.street_staff, denied, v1::APPEAL_DECISION_DENY_APPEAL, &record).ok());
  EXPECT_EQ(record.status(), v1::SERVICE_RECORD_STATUS_APPEAL_DENIED);
  EXPECT_FALSE(record.has_award());
  EXPECT_EQ(Appeal(denied, "请复核").error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  ASSERT_TRUE(testing::WaitFor([&] { return AllDelivered(); }, absl::Seconds(10)));
  EXPECT_EQ(Balance(rider_id_), 3);
  // Each decision announced once: upheld as verified, denied as rejected.
  EXPECT_EQ(env_.Sql("SELECT count(*) FILTER (WHERE type LIKE '%appealed') || ' ' || "
                     "count(*) FILTER (WHERE type LIKE '%verified') || ' ' || "
                     "count(*) FILTER (WHERE type LIKE '%rejected') FROM outbox_events"),
            "2 1 4");

  // The street's appeal queue and the rider's own list.
  v1::ListServiceRecordsRequest queue;
  queue.set_org_id(env_.street);
  queue.add_statuses(v1::SERVICE_RECORD_STATUS_REJECTED);
  v1::ListServiceRecordsResponse listed;
  ASSERT_TRUE(
      env_.stub().ListServiceRecords(env_.With(env_.street_staff).get(), queue, &listed).ok());
  ASSERT_EQ(listed.service_records_size(), 1);
  EXPECT_EQ(listed.service_records(0).service_record_id(), late);
  v1::ListServiceRecordsRequest mine;
  mine.set_page_size(3);
  ASSERT_TRUE(env_.stub().ListServiceRecords(env_.With(rider_).get(), mine, &listed).ok());
  EXPECT_EQ(listed.service_records_size(), 3);
  mine.set_page_token(listed.next_page_token());
  ASSERT_TRUE(env_.stub().ListServiceRecords(env_.With(rider_).get(), mine, &listed).ok());
  EXPECT_EQ(listed.service_records_size(), 1);
  EXPECT_TRUE(listed.next_page_token().empty());
  // Staff must name the subtree, within their scope.
  v1::ListServiceRecordsRequest outside;
  outside.set_org_id(env_.west);
  EXPECT_EQ(env_.stub()
                .ListServiceRecords(env_.With(env_.gongnong_staff).get(), outside, &listed)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env_.stub()
                .ListServiceRecords(env_.With(env_.west_staff).get(),
                                    v1::ListServiceRecordsRequest(), &listed)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace civicpoints::activity
