// cpctl end to end: the binary run as a child process against the running suite (ctest fixture
// cp_suite), checking its output, files and exit codes the way a script would.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "civicpoints/activity/v1/activity_service.grpc.pb.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "civicpoints/rewards/v1/rewards_service.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int code = -1;
  std::string out, err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// A scratch directory for this run, and names unique to it (the suite is shared by other tests).
const std::string& Dir() {
  static const std::string* dir = [] {
    std::string tmpl = "/tmp/cpctl_test.XXXXXX";
    return new std::string(mkdtemp(tmpl.data()));
  }();
  return *dir;
}
const std::string& Tag() {
  static const std::string* tag =
      new std::string(absl::StrCat((getpid() * 7919 + time(nullptr)) % 9000000 + 1000000));
  return *tag;
}
std::string Phone(int i) { return absl::StrCat("15", Tag(), i < 10 ? "0" : "", i); }
std::string Code(const std::string& what) { return absl::StrCat("T", Tag(), "-", what); }

// Runs cpctl with `args`, the session file of `user` and `input` on stdin.
Result Cpctl(const std::vector<std::string>& args, const std::string& user = "admin",
             const std::string& input = "") {
  static int n = 0;
  const std::string base = absl::StrCat(Dir(), "/run", ++n);
  WriteFile(base + ".in", input);
  const pid_t pid = fork();
  if (pid == 0) {
    const int in = open((base + ".in").c_str(), O_RDONLY);
    const int out = open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    // No terminal: progress is written as plain lines, passwords never prompted for.
    setsid();
    setenv("CPCTL_ADDR", Env("CP_SUITE_GATEWAY_ADDR").c_str(), 1);
    setenv("CPCTL_CONFIG", absl::StrCat(Dir(), "/", user, ".json").c_str(), 1);
    unsetenv("CPCTL_PASSWORD");
    std::vector<char*> argv = {const_cast<char*>(CPCTL_BIN)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(CPCTL_BIN, argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  return r;
}

std::string Show(const Result& r) {
  return absl::StrCat("exit ", r.code, "\n--- stdout\n", r.out, "--- stderr\n", r.err);
}

// The subcommand names listed in a --help text.
std::vector<std::string> Subcommands(const std::string& help) {
  std::vector<std::string> names;
  bool in_section = false;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    if (line == "Subcommands:") {
      in_section = true;
      continue;
    }
    if (!in_section) continue;
    if (line.empty()) break;
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (!words.empty()) names.push_back(words[0]);
  }
  return names;
}

// Removes the scratch directory when every test passed (kept for a look otherwise).
class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (::testing::UnitTest::GetInstance()->Passed()) std::filesystem::remove_all(Dir());
  }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

TEST(CpctlHelp, EveryCommandAndSubcommandHasHelp) {
  std::vector<std::vector<std::string>> todo = {{}};
  std::set<std::string> seen;
  while (!todo.empty()) {
    std::vector<std::string> path = todo.back();
    todo.pop_back();
    std::vector<std::string> args = path;
    args.push_back("--help");
    const Result r = Cpctl(args);
    ASSERT_EQ(r.code, 0) << absl::StrJoin(path, " ") << "\n" << Show(r);
    EXPECT_THAT(r.out, HasSubstr("Usage: cpctl")) << absl::StrJoin(path, " ");
    seen.insert(absl::StrJoin(path, " "));
    for (const std::string& sub : Subcommands(r.out)) {
      std::vector<std::string> next = path;
      next.push_back(sub);
      todo.push_back(next);
    }
  }
  // The tree the help walked is the whole command set, down to the leaves.
  for (const char* leaf :
       {"login", "org show", "place close", "activity confirm", "record verify", "case assign",
        "case close", "ranking top", "exchange open", "pickup fulfil", "import riders",
        "import places", "stats export", "password change"}) {
    EXPECT_TRUE(seen.count(leaf)) << leaf;
  }
  EXPECT_GT(seen.size(), 50u);
  const Result top = Cpctl({"--help"});
  EXPECT_THAT(top.out, HasSubstr("7  an import finished with some bad rows"));
}

TEST(CpctlUsage, UsageErrorsExitTwo) {
  EXPECT_EQ(Cpctl({}).code, 2);
  EXPECT_EQ(Cpctl({"no-such-command"}).code, 2);
  EXPECT_EQ(Cpctl({"org"}).code, 2);
  const Result missing = Cpctl({"org", "create", "--level", "district", "--name", "x"});
  EXPECT_EQ(missing.code, 2) << Show(missing);
  EXPECT_THAT(missing.err, HasSubstr("--code"));
  EXPECT_EQ(Cpctl({"place", "create", "--lat", "north"}).code, 2);
}

TEST(CpctlAuth, CallWithoutLoginExitsThree) {
  const Result r = Cpctl({"org", "show"}, "nobody");
  EXPECT_EQ(r.code, 3) << Show(r);
  EXPECT_THAT(r.err, HasSubstr("cpctl login"));
  const Result wrong = Cpctl({"login", "--phone", Env("CP_SUITE_ADMIN_PHONE"), "--password-stdin"},
                             "nobody", "Not-the-password-1\n");
  EXPECT_EQ(wrong.code, 3) << Show(wrong);
}

// Logged in as the suite's admin, with a district → street → community of its own.
class CpctlSuite : public ::testing::Test {
 protected:
  // A person the admin makes and grants `role` at the test community, signed in as `session`
  // with the first-login password change done. Returns the person id ("" after a failure).
  static std::string NewStaff(int phone, const std::string& name, const std::string& role,
                              const std::string& session) {
    const Result person =
        Cpctl({"person", "create", "--phone", Phone(phone), "--name", name, "--password-stdin"},
              "admin", "Staff-first-2026\n");
    std::smatch m;
    if (!std::regex_search(person.out, m, std::regex("person (p_[a-z0-9]+)"))) {
      ADD_FAILURE() << Show(person);
      return "";
    }
    const std::string id = m[1];
    for (const Result& r :
         {Cpctl({"role", "grant", "--person", id, "--role", role, "--org", Code("C")}),
          Cpctl({"login", "--phone", Phone(phone), "--password-stdin"}, session,
                "Staff-first-2026\n"),
          Cpctl({"password", "change", "--stdin"}, session,
                "Staff-first-2026\nStaff-second-2026\n")}) {
      if (r.code != 0) {
        ADD_FAILURE() << Show(r);
        return "";
      }
    }
    return id;
  }

  static void SetUpTestSuite() {
    const Result login =
        Cpctl({"login", "--phone", Env("CP_SUITE_ADMIN_PHONE"), "--password-stdin"}, "admin",
              Env("CP_SUITE_ADMIN_PASSWORD") + "\n");
    ASSERT_EQ(login.code, 0) << Show(login);
    for (const auto& [level, parent, what, name] :
         std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
             {"district", "root", "D", "测试区" + Tag()},
             {"street", Code("D"), "S", "测试街道"},
             {"community", Code("S"), "C", "测试社区"}}) {
      const Result r = Cpctl({"org", "create", "--parent", parent, "--level", level, "--code",
                              Code(what), "--name", name});
      ASSERT_EQ(r.code, 0) << Show(r);
    }
  }
};

TEST_F(CpctlSuite, LoginKeepsTheSessionInAPrivateFile) {
  struct stat st;
  ASSERT_EQ(stat(absl::StrCat(Dir(), "/admin.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  const Result me = Cpctl({"whoami"});
  EXPECT_EQ(me.code, 0) << Show(me);
  EXPECT_THAT(me.out, HasSubstr("district-admin"));
}

TEST_F(CpctlSuite, AnOrgViewerIsGrantedAndMayReadButNotWrite) {
  ASSERT_FALSE(NewStaff(53, "社区领导", "org-viewer", "viewer").empty());
  const Result me = Cpctl({"whoami"}, "viewer");
  EXPECT_EQ(me.code, 0) << Show(me);
  EXPECT_THAT(me.out, HasSubstr("org-viewer"));
  const Result places = Cpctl({"place", "list", "--org", Code("C")}, "viewer");
  EXPECT_EQ(places.code, 0) << Show(places);
  const Result create = Cpctl({"org", "create", "--parent", Code("C"), "--level", "community",
                               "--code", Code("V"), "--name", "不该建的社区"},
                              "viewer");
  EXPECT_EQ(create.code, 3) << Show(create);
}

TEST_F(CpctlSuite, OrgShowPrintsTheSubtreeAsAnIndentedTree) {
  const Result r = Cpctl({"org", "show", Code("D")});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_THAT(r.out, HasSubstr("测试区" + Tag() + " (" + Code("D") + ", district)"));
  EXPECT_THAT(r.out, HasSubstr("└── 测试街道 (" + Code("S") + ", street)"));
  EXPECT_THAT(r.out, HasSubstr("    └── 测试社区 (" + Code("C") + ", community)"));
  EXPECT_EQ(Cpctl({"org", "show", "NO-SUCH-CODE"}).code, 4);
  // The same create again is the same node; the code under another name is a conflict.
  EXPECT_EQ(Cpctl({"org", "create", "--parent", Code("S"), "--level", "community", "--code",
                   Code("C"), "--name", "测试社区"})
                .code,
            0);
  EXPECT_EQ(Cpctl({"org", "create", "--parent", Code("S"), "--level", "community", "--code",
                   Code("C"), "--name", "别的社区"})
                .code,
            5);
}

TEST_F(CpctlSuite, ANodeIsFoundByTheDivisionCodeSetOnIt) {
  // A street's code (digits 7-9 its own) unique to this run; the test district carries none.
  const std::string code = absl::StrCat("99", Tag().substr(0, 4), "001000");
  Result r = Cpctl({"org", "set-division-code", Code("S"), code});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_THAT(r.out, HasSubstr("测试街道 (" + Code("S") + ", street)"));
  EXPECT_THAT(r.out, HasSubstr("[" + code + "]"));
  r = Cpctl({"org", "show", code, "--depth", "0"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_THAT(r.out, HasSubstr(Code("S")));
  // A district's form for a street, and neither a code nor --clear: refused as bad input.
  EXPECT_EQ(Cpctl({"org", "set-division-code", Code("S"), "990000000000"}).code, 2);
  EXPECT_EQ(Cpctl({"org", "set-division-code", Code("S")}).code, 2);
  r = Cpctl({"org", "set-division-code", Code("S"), "--clear"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_THAT(r.out, Not(HasSubstr(code)));
}

TEST_F(CpctlSuite, ImportPlacesReportsBadRowsAndImportsNothingTwice) {
  const std::string file = Dir() + "/places.csv";
  WriteFile(file,
            absl::StrCat("community,kind,name,address,latitude,longitude,services,hours\n",
                         Code("C"), ",rider-station,驿站", Tag(),
                         ",平城区测试街1号,40.09,113.29,rest;supply;study,always\n",  // row 2
                         Code("C"), ",love-corner,爱心角甲", Tag(),
                         ",平城区测试街2号,40.091,113.291,phone-charging,08:00-20:00\n",  // row 3
                         Code("C"), ",love-corner,爱心角乙", Tag(),
                         ",平城区测试街3号,north,113.292,rest,\n",  // row 4: bad latitude
                         Code("C"), ",love-corner,爱心角丙", Tag(),
                         ",平城区测试街4号,40.093,113.293,drinking-water,\n",  // row 5
                         Code("C"), ",love-corner,爱心角丁", Tag(),
                         ",平城区测试街5号,40.094,113.294,teleport,\n"));  // row 6: bad service
  const std::string errors = Dir() + "/place-errors.csv";
  const Result first = Cpctl({"import", "places", file, "--errors", errors});
  ASSERT_EQ(first.code, 7) << Show(first);
  EXPECT_THAT(first.out, HasSubstr("5 rows, 3 imported, 0 already imported before, 2 bad"));
  EXPECT_THAT(first.err, HasSubstr("row 4, column latitude"));
  EXPECT_THAT(first.err, HasSubstr("row 6, column services"));
  EXPECT_THAT(first.err, HasSubstr("'teleport'"));
  const std::string report = ReadFile(errors);
  EXPECT_THAT(report, HasSubstr("row,field,code,message\n"));
  EXPECT_THAT(report, HasSubstr("4,latitude,INVALID_ROW,"));
  EXPECT_THAT(report, HasSubstr("6,services,INVALID_ROW,"));

  const Result list = Cpctl({"place", "list", "--org", Code("C")});
  ASSERT_EQ(list.code, 0) << Show(list);
  EXPECT_THAT(list.out, HasSubstr("驿站" + Tag()));
  EXPECT_THAT(list.out, HasSubstr("爱心角丙" + Tag()));
  EXPECT_THAT(list.out, Not(HasSubstr("爱心角乙")));
  EXPECT_THAT(list.out, HasSubstr("3 places"));

  const Result again = Cpctl({"import", "places", file});
  EXPECT_EQ(again.code, 7) << Show(again);
  EXPECT_THAT(again.out, HasSubstr("0 imported, 3 already imported before, 2 bad"));
  EXPECT_THAT(Cpctl({"place", "list", "--org", Code("C")}).out, HasSubstr("3 places"));

  // A file without a required column is refused before anything is sent.
  WriteFile(Dir() + "/bad-header.csv", "community,kind,name\nX,love-corner,Y\n");
  const Result header = Cpctl({"import", "places", Dir() + "/bad-header.csv"});
  EXPECT_EQ(header.code, 2) << Show(header);
  EXPECT_THAT(header.err, HasSubstr("no column 'address'"));
}

TEST_F(CpctlSuite, ImportedRiderEarnsPointsAndShowsInTheRankingTable) {
  // Riders: two good rows, one bad phone.
  const std::string riders = Dir() + "/riders.csv";
  WriteFile(riders, absl::StrCat("phone,display_name,password,community\n", Phone(1), ",王师傅",
                                 Tag(), ",Rider-pass-2026,", Code("C"), "\n", Phone(2), ",李师傅",
                                 Tag(), ",Rider-pass-2026,", Code("C"), "\n",
                                 "1381234,坏号码,Rider-pass-2026,", Code("C"), "\n"));
  const Result imported = Cpctl({"import", "riders", riders});
  ASSERT_EQ(imported.code, 7) << Show(imported);
  EXPECT_THAT(imported.out, HasSubstr("3 rows, 2 imported"));
  EXPECT_THAT(imported.err, HasSubstr("row 4, column phone"));
  const Result again = Cpctl({"import", "riders", riders});
  EXPECT_THAT(again.out, HasSubstr("0 imported, 2 already imported before, 1 bad")) << Show(again);

  // Community staff: created by the admin, must change the password at first login.
  const Result person =
      Cpctl({"person", "create", "--phone", Phone(50), "--name", "社区小刘", "--password-stdin"},
            "admin", "Staff-first-2026\n");
  ASSERT_EQ(person.code, 0) << Show(person);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(person.out, m, std::regex("person (p_[a-z0-9]+)")));
  const std::string staff_id = m[1];
  ASSERT_EQ(Cpctl({"role", "grant", "--person", staff_id, "--role", "community-staff", "--org",
                   Code("C")})
                .code,
            0);
  const Result staff_login =
      Cpctl({"login", "--phone", Phone(50), "--password-stdin"}, "staff", "Staff-first-2026\n");
  ASSERT_EQ(staff_login.code, 0) << Show(staff_login);
  EXPECT_THAT(staff_login.out, HasSubstr("cpctl password change"));
  const Result refused = Cpctl({"record", "pending", "--org", Code("C")}, "staff");
  EXPECT_EQ(refused.code, 5) << Show(refused);
  EXPECT_THAT(refused.err, HasSubstr("cpctl password change"));
  ASSERT_EQ(
      Cpctl({"password", "change", "--stdin"}, "staff", "Staff-first-2026\nStaff-second-2026\n")
          .code,
      0);

  // The rider reports a service from the app (plain gRPC through the gateway).
  auto channel =
      grpc::CreateChannel(Env("CP_SUITE_GATEWAY_ADDR"), grpc::InsecureChannelCredentials());
  namespace idv1 = civicpoints::identity::v1;
  namespace av1 = civicpoints::activity::v1;
  auto identity = idv1::IdentityService::NewStub(channel);
  idv1::LoginRequest lreq;
  lreq.set_phone(Phone(1));
  lreq.set_password("Rider-pass-2026");
  idv1::LoginResponse lresp;
  grpc::ClientContext lctx;
  ASSERT_TRUE(identity->Login(&lctx, lreq, &lresp).ok());
  const std::string rider_id = lresp.person_id();
  const Result community = Cpctl({"--json", "org", "children", Code("S")});
  ASSERT_TRUE(std::regex_search(community.out, m, std::regex("\"org_id\": \"(c_[a-z0-9]+)\"")))
      << Show(community);
  av1::SubmitServiceRecordRequest sreq;
  sreq.set_idempotency_key("cpctl-test-record-" + Tag());
  av1::ServiceRecord* rec = sreq.mutable_service_record();
  rec->set_kind(av1::SERVICE_RECORD_KIND_GRID_PATROL);
  rec->set_description("巡查测试街");
  rec->set_community_id(m[1]);
  rec->mutable_location()->set_latitude(40.09);
  rec->mutable_location()->set_longitude(113.29);
  rec->mutable_occur_time()->set_seconds(time(nullptr) - 600);
  av1::SubmitServiceRecordResponse sresp;
  grpc::ClientContext sctx;
  sctx.AddMetadata("authorization", "Bearer " + lresp.tokens().access_token());
  const grpc::Status submitted =
      av1::ActivityService::NewStub(channel)->SubmitServiceRecord(&sctx, sreq, &sresp);
  ASSERT_TRUE(submitted.ok()) << submitted.error_message();
  const std::string record_id = sresp.service_record().service_record_id();

  // Staff see it pending and verify it; the award reaches the ledger and the ranking.
  const Result pending = Cpctl({"record", "pending", "--org", Code("C")}, "staff");
  ASSERT_EQ(pending.code, 0) << Show(pending);
  EXPECT_THAT(pending.out, HasSubstr(record_id));
  EXPECT_THAT(pending.out, HasSubstr("王师傅" + Tag()));
  const Result verified = Cpctl({"record", "verify", record_id}, "staff");
  ASSERT_EQ(verified.code, 0) << Show(verified);
  EXPECT_THAT(verified.out, HasSubstr("verified"));

  Result top;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    top = Cpctl({"ranking", "top", "--org", Code("C"), "-n", "5"}, "staff");
    if (absl::StrContains(top.out, "王师傅" + Tag())) break;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  ASSERT_EQ(top.code, 0) << Show(top);
  EXPECT_THAT(top.out, HasSubstr("RANK  RIDER"));
  // Rank 1, the name (wide characters padded to the column), the points right-aligned.
  EXPECT_TRUE(
      std::regex_search(top.out, std::regex("\n   1  王师傅[0-9]+ +[1-9][0-9]*  " + rider_id)))
      << top.out;
  const Result rank = Cpctl({"ranking", "rank", rider_id, "--org", Code("C")}, "staff");
  EXPECT_EQ(rank.code, 0) << Show(rank);
  EXPECT_THAT(rank.out, HasSubstr("is #1 of 1"));
  const Result balance = Cpctl({"balance", rider_id}, "staff");
  EXPECT_EQ(balance.code, 0) << Show(balance);
  EXPECT_THAT(balance.out, HasSubstr("AVAILABLE"));
  EXPECT_THAT(balance.out, HasSubstr("service-record"));

  // A problem the rider reports becomes a case once verified; the street's enforcement team is
  // created beside the street, and the case is assigned to it and shown with its history.
  rec->set_kind(av1::SERVICE_RECORD_KIND_ROAD_OCCUPATION);
  rec->set_description("测试街车行占道");
  sreq.set_idempotency_key("cpctl-test-problem-" + Tag());
  grpc::ClientContext pctx;
  pctx.AddMetadata("authorization", "Bearer " + lresp.tokens().access_token());
  ASSERT_TRUE(
      av1::ActivityService::NewStub(channel)->SubmitServiceRecord(&pctx, sreq, &sresp).ok());
  ASSERT_EQ(Cpctl({"record", "verify", sresp.service_record().service_record_id()}, "staff").code,
            0);
  const Result team = Cpctl({"org", "create", "--parent", Code("S"), "--level", "department",
                             "--code", Code("ZFD"), "--name", "测试街道综合行政执法队"});
  ASSERT_EQ(team.code, 0) << Show(team);
  const Result open = Cpctl({"case", "list", "--org", Code("C"), "--open"}, "staff");
  ASSERT_EQ(open.code, 0) << Show(open);
  ASSERT_TRUE(std::regex_search(open.out, m, std::regex("(pc_[a-z0-9]+)"))) << open.out;
  const std::string case_id = m[1];
  // Community staff neither look the street's department up nor assign.
  EXPECT_NE(Cpctl({"case", "assign", case_id, "--department", Code("ZFD"), "--notice", "N-1",
                   "--deadline", "+3d"},
                  "staff")
                .code,
            0);
  const Result assigned = Cpctl({"case", "assign", case_id, "--department", Code("ZFD"), "--notice",
                                 "测试执法〔2026〕1号", "--deadline", "+3d"});
  ASSERT_EQ(assigned.code, 0) << Show(assigned);
  EXPECT_THAT(assigned.out, HasSubstr(case_id));
  EXPECT_THAT(assigned.out, HasSubstr("assigned"));
  const Result shown = Cpctl({"--json", "case", "show", case_id}, "staff");
  ASSERT_EQ(shown.code, 0) << Show(shown);
  EXPECT_THAT(shown.out, HasSubstr("PROBLEM_CASE_STATUS_ASSIGNED"));
  EXPECT_THAT(shown.out, HasSubstr("测试执法〔2026〕1号"));
  EXPECT_EQ(Cpctl({"case", "list"}, "staff").code, 2) << "a node or a department is needed";

  // The day's statistics as CSV: a header and one row per day.
  const Result stats =
      Cpctl({"stats", "export", "--node", Code("C"), "--from", "today", "--to", "today"}, "staff");
  ASSERT_EQ(stats.code, 0) << Show(stats);
  const std::vector<std::string> lines = absl::StrSplit(stats.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << stats.out;
  EXPECT_THAT(lines[0], HasSubstr("day,org_id,org_code,org_name,level,points_issued"));
  EXPECT_THAT(lines[1], HasSubstr(Code("C") + ",测试社区,community,"));
  EXPECT_EQ(Cpctl({"stats", "export", "--node", Code("C"), "--from", "2026-13-01", "--to", "today"},
                  "staff")
                .code,
            2);
}

TEST_F(CpctlSuite, ConfirmedAttendanceBecomesPointsAndAGiftAtTheStation) {
  // A rider of the test community, imported; its id from `person find`.
  const std::string riders = Dir() + "/attendee.csv";
  WriteFile(riders, absl::StrCat("phone,display_name,password,community\n", Phone(3), ",赵师傅",
                                 Tag(), ",Rider-pass-2026,", Code("C"), "\n"));
  ASSERT_EQ(Cpctl({"import", "riders", riders}).code, 0);
  std::smatch m;
  const Result found = Cpctl({"--json", "person", "find", "--phone", Phone(3)});
  ASSERT_TRUE(std::regex_search(found.out, m, std::regex("\"person_id\": \"(p_[a-z0-9]+)\"")))
      << Show(found);
  const std::string rider_id = m[1];

  // A community worker of its own (first login, then the password change).
  ASSERT_FALSE(NewStaff(51, "社区小王", "community-staff", "worker").empty());

  // A venue and an activity there (the fixture lets an activity start 5 s after it is made).
  const Result place = Cpctl({"--json", "place", "create", "--community", Code("C"), "--kind",
                              "activity-venue", "--name", "测试广场" + Tag(), "--address",
                              "测试街1号", "--lat", "40.09", "--lng", "113.29"});
  ASSERT_TRUE(std::regex_search(place.out, m, std::regex("\"place_id\": \"([a-z0-9_]+)\"")))
      << Show(place);
  const std::string place_id = m[1];
  const Result activity = Cpctl(
      {"--json", "activity", "create", "--organiser", Code("C"), "--place", place_id, "--title",
       "测试清扫", "--category", "environmental-cleanup", "--start", "+8s", "--end", "+2h"},
      "worker");
  ASSERT_TRUE(std::regex_search(activity.out, m, std::regex("\"activity_id\": \"([a-z0-9_]+)\"")))
      << Show(activity);
  const std::string activity_id = m[1];
  const absl::Time start = absl::Now() + absl::Seconds(8);

  // Staff check the rider in as a walk-in; confirming before the start is refused (exit 5).
  const Result checkin =
      Cpctl({"activity", "checkin", activity_id, "--rider", rider_id, "--enrol"}, "worker");
  ASSERT_EQ(checkin.code, 0) << Show(checkin);
  const Result early = Cpctl({"activity", "confirm", activity_id, "--all"}, "worker");
  EXPECT_EQ(early.code, 5) << Show(early);
  const Result nobody = Cpctl({"activity", "confirm", activity_id}, "worker");
  EXPECT_EQ(nobody.code, 2) << Show(nobody);  // neither --all nor --rider

  absl::SleepFor(start - absl::Now() + absl::Milliseconds(500));
  const Result confirmed = Cpctl({"activity", "confirm", activity_id, "--all"}, "worker");
  ASSERT_EQ(confirmed.code, 0) << Show(confirmed);

  // The award travels activity -> relay -> ledger: the rider's statement shows it.
  Result balance;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    balance = Cpctl({"balance", rider_id}, "worker");
    if (absl::StrContains(balance.out, "activity")) break;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  EXPECT_EQ(balance.code, 0) << Show(balance);
  ASSERT_THAT(balance.out, HasSubstr("activity")) << balance.out;

  // Exchange day. A station with its keeper, a 5-point gift stocked there, a window opened.
  const std::string keeper_id = NewStaff(52, "驿站老周", "station-keeper", "keeper");
  ASSERT_FALSE(keeper_id.empty());
  const Result station = Cpctl({"--json",
                                "place",
                                "create",
                                "--community",
                                Code("C"),
                                "--kind",
                                "rider-station",
                                "--name",
                                "测试驿站" + Tag(),
                                "--address",
                                "测试街2号",
                                "--lat",
                                "40.09",
                                "--lng",
                                "113.29",
                                "--services",
                                "rest;drinking-water",
                                "--hours",
                                "always",
                                "--keeper",
                                keeper_id});
  ASSERT_TRUE(std::regex_search(station.out, m, std::regex("\"place_id\": \"([a-z0-9_]+)\"")))
      << Show(station);
  const std::string station_id = m[1];
  const Result gift = Cpctl({"--json", "gift", "create", "--owner", Code("S"), "--name",
                             "毛巾" + Tag(), "--points", "5", "--category", "daily-necessities"});
  ASSERT_TRUE(std::regex_search(gift.out, m, std::regex("\"gift_id\": \"([a-z0-9_]+)\"")))
      << Show(gift);
  const std::string gift_id = m[1];
  ASSERT_EQ(
      Cpctl({"stock", "add", "--station", station_id, "--gift", gift_id, "--quantity", "3"}).code,
      0);
  const Result window =
      Cpctl({"--json", "exchange", "create", "--owner", Code("S"), "--title", "测试兑换日",
             "--station", station_id, "--gift", gift_id + ":1", "--start", "+1m", "--end", "+8h"});
  ASSERT_TRUE(std::regex_search(window.out, m, std::regex("\"window_id\": \"([a-z0-9_]+)\"")))
      << Show(window);
  const std::string window_id = m[1];
  const Result opened = Cpctl({"exchange", "open", window_id});
  ASSERT_EQ(opened.code, 0) << Show(opened);

  // The rider orders on the phone (gRPC through the gateway) and reads out the pickup code.
  auto channel =
      grpc::CreateChannel(Env("CP_SUITE_GATEWAY_ADDR"), grpc::InsecureChannelCredentials());
  civicpoints::identity::v1::LoginRequest lreq;
  lreq.set_phone(Phone(3));
  lreq.set_password("Rider-pass-2026");
  civicpoints::identity::v1::LoginResponse lresp;
  grpc::ClientContext lctx;
  ASSERT_TRUE(civicpoints::identity::v1::IdentityService::NewStub(channel)
                  ->Login(&lctx, lreq, &lresp)
                  .ok());
  civicpoints::rewards::v1::CreateRedemptionRequest order;
  order.set_window_id(window_id);
  order.set_station_id(station_id);
  order.set_gift_id(gift_id);
  order.set_quantity(1);
  order.set_idempotency_key("cpctl-test-order-" + Tag());
  civicpoints::rewards::v1::CreateRedemptionResponse ordered;
  grpc::ClientContext octx;
  octx.AddMetadata("authorization", "Bearer " + lresp.tokens().access_token());
  const grpc::Status placed =
      civicpoints::rewards::v1::RewardsService::NewStub(channel)->CreateRedemption(&octx, order,
                                                                                   &ordered);
  ASSERT_TRUE(placed.ok()) << placed.error_message();
  const std::string code = ordered.redemption().pickup_code();
  ASSERT_EQ(code.size(), 6u);

  // The keeper sees the order waiting, hands the gift over by its code, and a wrong code is
  // not found (exit 4).
  const Result waiting = Cpctl({"pickup", "list", "--station", station_id}, "keeper");
  ASSERT_EQ(waiting.code, 0) << Show(waiting);
  EXPECT_THAT(waiting.out, HasSubstr("毛巾" + Tag()));
  const Result handed =
      Cpctl({"pickup", "fulfil", "--station", station_id, "--code", code}, "keeper");
  ASSERT_EQ(handed.code, 0) << Show(handed);
  EXPECT_THAT(handed.out, HasSubstr("fulfilled"));
  std::string wrong = code;
  wrong[0] = static_cast<char>('0' + (wrong[0] - '0' + 1) % 10);
  EXPECT_EQ(Cpctl({"pickup", "fulfil", "--station", station_id, "--code", wrong}, "keeper").code,
            4);
}

TEST_F(CpctlSuite, ExpiredAccessTokenIsRefreshedAndTheFileRewritten) {
  ASSERT_EQ(Cpctl({"login", "--phone", Env("CP_SUITE_ADMIN_PHONE"), "--password-stdin"}, "aged",
                  Env("CP_SUITE_ADMIN_PASSWORD") + "\n")
                .code,
            0);
  const std::string path = Dir() + "/aged.json";
  const std::string before = ReadFile(path);
  // Age the access token as if 15 minutes had passed.
  WriteFile(path, std::regex_replace(before, std::regex("\"access_expire_unix\": [0-9]+"),
                                     "\"access_expire_unix\": 1000"));
  chmod(path.c_str(), 0600);
  const Result me = Cpctl({"whoami"}, "aged");
  EXPECT_EQ(me.code, 0) << Show(me);
  const std::string after = ReadFile(path);
  std::smatch a, b;
  ASSERT_TRUE(std::regex_search(before, b, std::regex("\"refresh_token\": \"([^\"]+)\"")));
  ASSERT_TRUE(std::regex_search(after, a, std::regex("\"refresh_token\": \"([^\"]+)\"")));
  EXPECT_NE(a[1], b[1]);  // rotated
  EXPECT_THAT(after, Not(HasSubstr("\"access_expire_unix\": 1000")));
  // A refresh token the server does not know ends the session: log in again.
  WriteFile(path, std::regex_replace(after, std::regex("\"access_expire_unix\": [0-9]+"),
                                     "\"access_expire_unix\": 1000"));
  WriteFile(path, std::regex_replace(ReadFile(path), std::regex("\"refresh_token\": \"[^\"]+\""),
                                     "\"refresh_token\": \"rt_forged\""));
  const Result ended = Cpctl({"whoami"}, "aged");
  EXPECT_EQ(ended.code, 3) << Show(ended);
  EXPECT_THAT(ended.err, HasSubstr("cpctl login"));
  // A session file others may read is refused rather than used.
  chmod(path.c_str(), 0644);
  EXPECT_EQ(Cpctl({"whoami"}, "aged").code, 3);
}

TEST_F(CpctlSuite, LogoutEndsTheSession) {
  ASSERT_EQ(Cpctl({"login", "--phone", Env("CP_SUITE_ADMIN_PHONE"), "--password-stdin"}, "brief",
                  Env("CP_SUITE_ADMIN_PASSWORD") + "\n")
                .code,
            0);
  EXPECT_EQ(Cpctl({"whoami"}, "brief").code, 0);
  EXPECT_EQ(Cpctl({"logout"}, "brief").code, 0);
  EXPECT_EQ(Cpctl({"whoami"}, "brief").code, 3);
}

}  // namespace
