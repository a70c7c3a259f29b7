#include "services/identity/service_support.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/jwt.h"
#include "common/log/log.h"
#include "common/pg/pg_errors.h"
#include "common/pg/pg_pool.h"
#include "common/status/grpc_status.h"
#include "services/identity/crypto.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"

namespace civicpoints::identity {

using common::v1::ROLE_CITY_SYSTEM;
using common::v1::ROLE_DISTRICT_ADMIN;
using common::v1::ROLE_INTERNAL_SERVICE;
using common::v1::ROLE_RIDER;

bool GrantCoversOrg(const auth::RoleGrant& g, const OrgRow& org) {
  if (g.org_id.empty() || g.org_id == kRootId) return true;
  return g.org_id == org.org_id || g.org_id == org.district_id || g.org_id == org.street_id;
}

bool IsRootAdmin(const auth::Principal& who) {
  return std::any_of(who.roles.begin(), who.roles.end(), [](const auth::RoleGrant& g) {
    return g.role == ROLE_DISTRICT_ADMIN && g.org_id == kRootId;
  });
}

bool IsCitySystem(const auth::Principal& who) { return who.HasRole(ROLE_CITY_SYSTEM); }
bool IsInternalService(const auth::Principal& who) { return who.HasRole(ROLE_INTERNAL_SERVICE); }

absl::Status CheckCoversOrg(const auth::Principal& who, const OrgRow& org, absl::string_view what) {
  for (const auth::RoleGrant& g : who.roles) {
    if (g.role == ROLE_INTERNAL_SERVICE) return absl::OkStatus();
    if (g.role != ROLE_RIDER && GrantCoversOrg(g, org)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(what, " is outside the org nodes the caller's roles cover"));
}

bool CoversOrgWithRole(const auth::Principal& who, const OrgRow& org,
                       std::initializer_list<auth::Role> roles) {
  return std::any_of(who.roles.begin(), who.roles.end(), [&](const auth::RoleGrant& g) {
    return std::find(roles.begin(), roles.end(), g.role) != roles.end() && GrantCoversOrg(g, org);
  });
}

absl::StatusOr<int> PageSize(int32_t requested) {
  if (requested < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  if (requested == 0) return 20;
  return std::min(requested, 100);
}

int64_t PageKeyInt(const std::vector<std::string>& keys) {
  int64_t value = 0;
  if (keys.empty() || !absl::SimpleAtoi(keys[0], &value)) return 0;
  return value;
}

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

std::string FilterTag(const google::protobuf::Message& request_without_paging) {
  return absl::BytesToHexString(Sha256(DeterministicBytes(request_without_paging))).substr(0, 16);
}

std::string EncodePageToken(const std::string& filter_tag, const std::vector<std::string>& keys) {
  std::vector<std::string> parts = {"v1", filter_tag};
  for (const std::string& k : keys) parts.push_back(absl::BytesToHexString(k));
  return auth::Base64UrlEncode(absl::StrJoin(parts, "|"));
}

absl::StatusOr<std::vector<std::string>> DecodePageToken(const std::string& token,
                                                         const std::string& filter_tag,
                                                         size_t key_count) {
  if (token.empty()) return std::vector<std::string>{};
  const absl::Status bad =
      absl::InvalidArgumentError("page_token: is not a token from a previous page of this list");
  std::string raw;
  if (token.size() > 512 || !auth::Base64UrlDecode(token, &raw)) return bad;
  std::vector<std::string> parts = absl::StrSplit(raw, '|');
  if (parts.size() != key_count + 2 || parts[0] != "v1") return bad;
  if (parts[1] != filter_tag) {
    return absl::InvalidArgumentError(
        "page_token: was made for a list with other filters; keep the filters while paging");
  }
  std::vector<std::string> keys;
  for (size_t i = 2; i < parts.size(); ++i) {
    if (parts[i].size() % 2 != 0 ||
        parts[i].find_first_not_of("0123456789abcdef") != std::string::npos) {
      return bad;
    }
    keys.push_back(absl::HexStringToBytes(parts[i]));
  }
  return keys;
}

std::string FillPage(const pqxx::result& rows, const Paging& paging,
                     const std::function<void(const pqxx::row&)>& fill,
                     const std::function<std::vector<std::string>(const pqxx::row&)>& last_keys) {
  const int n = std::min(static_cast<int>(rows.size()), paging.size);
  for (int i = 0; i < n; ++i) fill(rows[i]);
  if (static_cast<int>(rows.size()) <= paging.size) return "";
  return EncodePageToken(paging.tag, last_keys(rows[paging.size - 1]));
}

std::string FillPage(const pqxx::result& rows, const Paging& paging, int time_col,
                     const std::function<void(const pqxx::row&)>& fill) {
  return FillPage(rows, paging, fill, [time_col](const pqxx::row& last) {
    return std::vector<std::string>{std::to_string(last[time_col].as<int64_t>()),
                                    last[0].as<std::string>()};
  });
}

// ---- IdentityServiceImpl: plumbing shared by every method ----

IdentityServiceImpl::IdentityServiceImpl(pg::PgPool* pool, const Secrets* secrets, KeyRing* keys,
                                         const auth::Authorizer* authorizer,
                                         IdentityOptions options)
    : pool_(pool),
      secrets_(secrets),
      keys_(keys),
      authorizer_(authorizer),
      options_(std::move(options)) {}

namespace {

std::string Metadata(const grpc::ServerContext& ctx, const char* key) {
  auto it = ctx.client_metadata().find(key);
  if (it == ctx.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// "ipv4:127.0.0.1:5555" → "127.0.0.1".
std::string PeerAddress(const std::string& peer) {
  std::string_view p = peer;
  const size_t colon = p.find(':');
  if (colon != std::string::npos) p.remove_prefix(colon + 1);
  const size_t last = p.rfind(':');
  if (last != std::string::npos) p = p.substr(0, last);
  return std::string(p);
}

}  // namespace

grpc::Status IdentityServiceImpl::Handle(grpc::ServerContext* ctx, const char* method,
                                         const Body& body) {
  log::ScopedRequestId scope(Metadata(*ctx, "x-request-id"));
  absl::StatusOr<std::optional<auth::Principal>> who = authorizer_->Authorize(
      *ctx, absl::StrCat("/", v1::IdentityService::service_full_name(), "/", method));
  if (!who.ok()) return ToGrpcStatus(who.status());
  Caller caller;
  if (who->has_value()) {
    caller.principal = &**who;
  }
  // Behind the gateway (when trusted) the outside client's address comes as metadata; otherwise
  // the peer address names the caller, and a header cannot dodge the per-address limits.
  if (options_.trust_client_address_header) {
    caller.client_address = Metadata(*ctx, "x-client-address");
  }
  if (caller.client_address.empty()) caller.client_address = PeerAddress(ctx->peer());
  caller.now = absl::Now();
  absl::Status status = body(caller);
  // Throttled answers say when to come back: a google.rpc.RetryInfo detail, and the same wait in
  // seconds as "retry-after" trailing metadata for the gateway's Retry-After header.
  if (std::optional<absl::Duration> wait = RetryDelayOf(status)) {
    ctx->AddTrailingMetadata("retry-after", std::to_string(absl::ToInt64Seconds(*wait)));
  }
  return ToGrpcStatus(status);
}

absl::Status IdentityServiceImpl::InTx(
    absl::string_view what, const std::function<absl::Status(pqxx::transaction_base&)>& fn) {
  return pool_->WithConnection(what, [&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    absl::Status s = fn(tx);
    if (s.ok()) tx.commit();
    return s;
  });
}

absl::Status IdentityServiceImpl::InReadTx(
    absl::string_view what, const std::function<absl::Status(pqxx::transaction_base&)>& fn) {
  return pool_->WithReadConnection(what, [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    return fn(tx);
  });
}

absl::Status IdentityServiceImpl::Idempotent(
    absl::string_view method, const std::string& key, const google::protobuf::Message& request,
    google::protobuf::Message* response,
    const std::function<absl::Status(pqxx::transaction_base&)>& fn) {
  if (absl::Status s = CheckIdempotencyKey(key); !s.ok()) return s;
  const std::string hash = secrets_->RequestHash(DeterministicBytes(request));
  const std::string m(method);
  // Two concurrent first calls with one key: the loser's insert violates the key and it retries,
  // finding the winner's stored answer.
  for (int attempt = 0;; ++attempt) {
    absl::Status s = InTx(m, [&](pqxx::transaction_base& tx) -> absl::Status {
      pqxx::result found = tx.exec_params(
          "SELECT request_hash, response FROM idempotency_keys WHERE method = $1 AND key = $2", m,
          key);
      if (!found.empty()) {
        if (pqxx::binarystring(found[0][0]).str() != hash) {
          return absl::FailedPreconditionError(
              "idempotency_key: was already used with a different request");
        }
        if (!response->ParseFromString(pqxx::binarystring(found[0][1]).str())) {
          return absl::DataLossError("stored response does not parse");
        }
        return absl::OkStatus();
      }
      if (absl::Status done = fn(tx); !done.ok()) return done;
      tx.exec_params(
          "INSERT INTO idempotency_keys (method, key, request_hash, response) "
          "VALUES ($1, $2, $3, $4)",
          m, key, pqxx::binarystring(hash), pqxx::binarystring(response->SerializeAsString()));
      return absl::OkStatus();
    });
    if (s.code() != absl::StatusCode::kAlreadyExists || attempt > 0) return s;
    // ALREADY_EXISTS may also be the method's own answer (a duplicate phone); the retry then
    // returns it again.
    response->Clear();
  }
}

namespace {

absl::Time WindowStart(absl::Time now, absl::Duration window) {
  const int64_t w = absl::ToInt64Seconds(window);
  return absl::FromUnixSeconds(absl::ToUnixSeconds(now) / w * w);
}

}  // namespace

absl::Status IdentityServiceImpl::TakeThrottle(const std::string& bucket, int limit,
                                               absl::Duration window, absl::Time now) {
  const absl::Time start = WindowStart(now, window);
  int hits = 0;
  absl::Status counted = InTx("count attempt", [&](pqxx::transaction_base& tx) {
    hits = tx.exec_params(
                 "INSERT INTO throttle_windows (bucket, window_start, hits) "
                 "VALUES ($1, from_us($2), 1) ON CONFLICT (bucket, window_start) "
                 "DO UPDATE SET hits = throttle_windows.hits + 1 RETURNING hits",
                 bucket, Us(start))[0][0]
               .as<int>();
    // Old windows are dropped as new ones open, a few at a time.
    if (hits == 1) {
      tx.exec_params(
          "DELETE FROM throttle_windows WHERE ctid = ANY (ARRAY(SELECT ctid FROM "
          "throttle_windows WHERE window_start < from_us($1) LIMIT 20))",
          Us(now - absl::Hours(24)));
    }
    return absl::OkStatus();
  });
  if (!counted.ok()) return counted;
  if (hits <= limit) return absl::OkStatus();
  const int64_t wait = std::max<int64_t>(1, absl::ToInt64Seconds(start + window - now));
  return WithRetryDelay(absl::ResourceExhaustedError(
                            absl::StrCat("too many attempts; try again in ", wait, " seconds")),
                        absl::Seconds(wait));
}

void IdentityServiceImpl::RefundThrottle(const std::string& bucket, absl::Duration window,
                                         absl::Time now) {
  absl::Status s = InTx("refund attempt", [&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "UPDATE throttle_windows SET hits = hits - 1 WHERE bucket = $1 "
        "AND window_start = from_us($2) AND hits > 0",
        bucket, Us(WindowStart(now, window)));
    return absl::OkStatus();
  });
  if (!s.ok()) log::Warn("throttle refund not recorded", {{"error", std::string(s.message())}});
}

absl::StatusOr<bool> IdentityServiceImpl::CoversPerson(pqxx::transaction_base& tx,
                                                       const auth::Principal& who,
                                                       const std::string& person_id,
                                                       bool for_write) {
  if (IsInternalService(who)) return true;
  // Every node the person is attached to: home community and active grants' nodes (and, for
  // reading, the nodes of grants they held: staff can see the history of people they managed).
  pqxx::result nodes =
      tx.exec_params("SELECT " + std::string(kOrgColumns) +
                         " FROM org_nodes WHERE org_id IN ("
                         "  SELECT community_id FROM check_ins WHERE person_id = $1 AND status = 2"
                         "  UNION SELECT org_id FROM role_grants WHERE person_id = $1 AND role <> 1"
                         "    AND ($2 OR revoked_at IS NULL))",
                     person_id, !for_write);
  if (nodes.empty()) {
    const bool at_root =
        std::any_of(who.roles.begin(), who.roles.end(), [](const auth::RoleGrant& g) {
          return g.role != ROLE_RIDER && (g.org_id == kRootId || g.org_id.empty());
        });
    if (at_root) return true;
    const bool staff = std::any_of(who.roles.begin(), who.roles.end(),
                                   [](const auth::RoleGrant& g) { return g.role != ROLE_RIDER; });
    if (for_write || !staff) return false;
    pqxx::result rider =
        tx.exec_params("SELECT is_rider FROM people WHERE person_id = $1", person_id);
    return !rider.empty() && rider[0][0].as<bool>();
  }
  for (const auto& row : nodes) {
    if (CheckCoversOrg(who, ReadOrg(row), "").ok()) return true;
  }
  return false;
}

}  // namespace civicpoints::identity
