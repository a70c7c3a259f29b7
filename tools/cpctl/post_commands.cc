// post create|list|claims|approve|reject: governance posts and the riders' claims on their seats.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "civicpoints/activity/v1/activity_service.pb.h"
#include "tools/cpctl/commands.h"
#include "tools/cpctl/context.h"
#include "tools/cpctl/format.h"
#include "tools/cpctl/lookups.h"
#include "tools/cpctl/table.h"

namespace civicpoints::cpctl {
namespace {

namespace av1 = activity::v1;
constexpr char kActivity[] = "civicpoints.activity.v1.ActivityService.";

struct CreateOptions {
  std::string community, kind, title, description, key;
  int seats = 1;
};

absl::Status Create(Context& ctx, const CreateOptions& o) {
  av1::CreatePostRequest req;
  absl::StatusOr<av1::PostKind> kind = ParseEnum<av1::PostKind>(o.kind, "--kind");
  if (!kind.ok()) return kind.status();
  absl::StatusOr<std::string> community = ResolveOrgId(ctx, o.community);
  if (!community.ok()) return community.status();
  av1::Post* p = req.mutable_post();
  p->set_community_id(*community);
  p->set_kind(*kind);
  p->set_title(o.title);
  p->set_description(o.description);
  p->set_seats_total(o.seats);
  req.set_idempotency_key(o.key.empty() ? NewIdempotencyKey() : o.key);
  av1::CreatePostResponse resp;
  absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "CreatePost"), req, &resp);
  if (!s.ok()) return s;
  if (!ctx.PrintJson(resp)) {
    std::cout << "created post " << resp.post().post_id() << " " << resp.post().title() << "\n";
  }
  return absl::OkStatus();
}

struct ListOptions {
  std::string org, kind, status;
};

absl::Status List(Context& ctx, const ListOptions& o) {
  av1::ListPostsRequest req;
  if (!o.kind.empty()) {
    absl::StatusOr<av1::PostKind> kind = ParseEnum<av1::PostKind>(o.kind, "--kind");
    if (!kind.ok()) return kind.status();
    req.set_kind(*kind);
  }
  if (!o.status.empty()) {
    absl::StatusOr<av1::PostStatus> st = ParseEnum<av1::PostStatus>(o.status, "--status");
    if (!st.ok()) return st.status();
    req.set_status(*st);
  }
  absl::StatusOr<std::string> org = ResolveOrgId(ctx, o.org);
  if (!org.ok()) return org.status();
  req.set_org_id(*org);
  req.set_page_size(100);
  av1::ListPostsResponse all;
  do {
    av1::ListPostsResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "ListPosts"), req, &resp);
    if (!s.ok()) return s;
    for (const av1::Post& p : resp.posts()) *all.add_posts() = p;
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  Table t({"ID", "KIND", "TITLE", "SEATS", "STATUS"},
          {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight});
  for (const av1::Post& p : all.posts()) {
    t.AddRow({p.post_id(), EnumLabel(p.kind()), p.title(),
              absl::StrCat(p.seats_taken(), "/", p.seats_total()), EnumLabel(p.status())});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

struct ClaimsOptions {
  std::string post, org, status = "pending";
};

absl::Status Claims(Context& ctx, const ClaimsOptions& o) {
  av1::ListPostClaimsRequest req;
  if (o.post.empty() == o.org.empty()) {
    return absl::InvalidArgumentError("give exactly one of --post and --org");
  }
  req.set_post_id(o.post);
  if (!o.org.empty()) {
    absl::StatusOr<std::string> org = ResolveOrgId(ctx, o.org);
    if (!org.ok()) return org.status();
    req.set_org_id(*org);
  }
  if (o.status != "any") {
    absl::StatusOr<av1::PostClaimStatus> st = ParseEnum<av1::PostClaimStatus>(o.status, "--status");
    if (!st.ok()) return st.status();
    req.set_status(*st);
  }
  req.set_page_size(100);
  av1::ListPostClaimsResponse all;
  do {
    av1::ListPostClaimsResponse resp;
    absl::Status s = ctx.client().Call(absl::StrCat(kActivity, "ListPostClaims"), req, &resp);
    if (!s.ok()) return s;
    for (const av1::PostClaim& c : resp.claims()) *all.add_claims() = c;
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.PrintJson(all)) return absl::OkStatus();
  std::vector<std::string> riders;
  for (const av1::PostClaim& c : all.claims()) riders.push_back(c.rider_id());
  std::map<std::string, std::string> names = PeopleNames(ctx, riders);
  Table t({"CLAIM", "POST", "KIND", "RIDER", "NAME", "STATUS", "CLAIMED", "NOTE"});
  for (const av1::PostClaim& c : all.claims()) {
    t.AddRow({c.claim_id(), c.post_id(), EnumLabel(c.post_kind()), c.rider_id(),
              names[c.rider_id()], EnumLabel(c.status()), FormatTime(c.create_time()), c.note()});
  }
  t.Print(std::cout);
  return absl::OkStatus();
}

struct DecideOptions {
  std::string post, claim, reason;
};

absl::Status Decide(Context& ctx, const DecideOptions& o, bool approve) {
  av1::PostClaim claim;
  absl::Status s;
  if (approve) {
    av1::ApprovePostClaimRequest req;
    req.set_post_id(o.post);
    req.set_claim_id(o.claim);
    av1::ApprovePostClaimResponse resp;
    s = ctx.client().Call(absl::StrCat(kActivity, "ApprovePostClaim"), req, &resp);
    claim = resp.claim();
  } else {
    av1::RejectPostClaimRequest req;
    req.set_post_id(o.post);
    req.set_claim_id(o.claim);
    req.set_reason(o.reason);
    av1::RejectPostClaimResponse resp;
    s = ctx.client().Call(absl::StrCat(kActivity, "RejectPostClaim"), req, &resp);
    claim = resp.claim();
  }
  if (!s.ok()) return s;
  if (!ctx.PrintJson(claim)) {
    std::cout << "claim " << claim.claim_id() << " is " << EnumLabel(claim.status()) << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddPostCommands(CLI::App& app, Context& ctx) {
  CLI::App* post = app.add_subcommand("post", "governance posts (社区治理岗位) and claims");
  post->require_subcommand(1);

  auto co = std::make_shared<CreateOptions>();
  CLI::App* create = post->add_subcommand("create", "open a post with seats in a community");
  create->add_option("--community", co->community, "community id or code")->required();
  create->add_option("--kind", co->kind, EnumChoicesOf<av1::PostKind>())->required();
  create->add_option("--title", co->title, "title, up to 60 characters")->required();
  create->add_option("--seats", co->seats, "seats, 1-500")->capture_default_str();
  create->add_option("--description", co->description, "free text");
  create->add_option("--key", co->key, "idempotency key (default: random)");
  create->callback([&ctx, co] { ctx.Run([&ctx, co] { return Create(ctx, *co); }); });

  auto lo = std::make_shared<ListOptions>();
  CLI::App* list = post->add_subcommand("list", "list posts in an org node's subtree");
  list->add_option("--org", lo->org, "org node id or code")->required();
  list->add_option("--kind", lo->kind, EnumChoicesOf<av1::PostKind>());
  list->add_option("--status", lo->status, EnumChoicesOf<av1::PostStatus>());
  list->callback([&ctx, lo] { ctx.Run([&ctx, lo] { return List(ctx, *lo); }); });

  auto cl = std::make_shared<ClaimsOptions>();
  CLI::App* claims = post->add_subcommand("claims", "list claims of a post or of an org subtree");
  claims->add_option("--post", cl->post, "post id");
  claims->add_option("--org", cl->org, "org node id or code");
  claims->add_option("--status", cl->status, "any, " + EnumChoicesOf<av1::PostClaimStatus>())
      ->capture_default_str();
  claims->callback([&ctx, cl] { ctx.Run([&ctx, cl] { return Claims(ctx, *cl); }); });

  auto ap = std::make_shared<DecideOptions>();
  CLI::App* approve = post->add_subcommand("approve", "approve a rider's claim on a seat");
  approve->add_option("post_id", ap->post, "post id")->required();
  approve->add_option("claim_id", ap->claim, "claim id")->required();
  approve->callback([&ctx, ap] { ctx.Run([&ctx, ap] { return Decide(ctx, *ap, true); }); });

  auto rj = std::make_shared<DecideOptions>();
  CLI::App* reject = post->add_subcommand("reject", "reject a rider's claim");
  reject->add_option("post_id", rj->post, "post id")->required();
  reject->add_option("claim_id", rj->claim, "claim id")->required();
  reject->add_option("--reason", rj->reason, "why (shown to the rider)")->required();
  reject->callback([&ctx, rj] { ctx.Run([&ctx, rj] { return Decide(ctx, *rj, false); }); });
}

}  // namespace civicpoints::cpctl
