// ResolveRider and BatchResolveRiders: a city system names riders as it knows them (a
// delivery-platform rider id, or a phone number) and learns their pseudonymous person_id and home
// community, nothing more, for the riders inside its scope. Rate-limited per caller and audited
// (how many keys and how many found; never the keys themselves).
#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/identity/identity_service.h"
#include "services/identity/input_rules.h"

namespace civicpoints::identity {
namespace {

constexpr int kResolvesPerMinute = 60;
constexpr int kBatchesPerHour = 20;
constexpr int kMaxBatch = 500;

absl::Status CheckRiderKey(const v1::RiderKey& key, const std::string& field) {
  switch (key.key_case()) {
    case v1::RiderKey::kPlatformAccount:
      return CheckPlatformAccount(key.platform_account(), field + ".platform_account");
    case v1::RiderKey::kPhone:
      return NormalizePhone(key.phone(), field + ".phone").status();
    case v1::RiderKey::KEY_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": a platform_account or a phone is required"));
}

}  // namespace

absl::Status IdentityServiceImpl::ResolveRiderKeys(
    const Caller& caller, const std::vector<const v1::RiderKey*>& keys,
    std::vector<std::optional<v1::ResolvedRider>>* out) {
  return InTx("resolve riders", [&](pqxx::transaction_base& tx) -> absl::Status {
    out->assign(keys.size(), std::nullopt);
    int found = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      const v1::RiderKey& key = *keys[i];
      pqxx::result person;
      if (key.has_platform_account()) {
        const v1::PlatformAccount& a = key.platform_account();
        person = tx.exec_params(
            "SELECT p.person_id FROM platform_accounts a JOIN people p USING (person_id) "
            "WHERE a.platform = $1 AND a.platform_name = $2 AND a.platform_rider_id = $3 AND "
            "p.is_rider",
            static_cast<int>(a.platform()), a.platform_name(), a.platform_rider_id());
      } else {
        person = tx.exec_params(
            "SELECT person_id FROM people WHERE phone_hash = $1 AND is_rider",
            pqxx::binarystring(secrets_->PhoneHash(*NormalizePhone(key.phone(), "phone"))));
      }
      if (person.empty()) continue;
      const std::string id = person[0][0].as<std::string>();
      absl::StatusOr<bool> covered = CoversPerson(tx, caller.who(), id, /*for_write=*/true);
      if (!covered.ok()) return covered.status();
      if (!*covered) continue;
      v1::ResolvedRider rider;
      rider.set_person_id(id);
      pqxx::result home = tx.exec_params(
          "SELECT community_id FROM check_ins WHERE person_id = $1 AND "
          "status = check_in_status('ACTIVE')",
          id);
      if (!home.empty()) rider.set_home_community_id(home[0][0].as<std::string>());
      (*out)[i] = std::move(rider);
      ++found;
    }
    tx.exec_params(
        "INSERT INTO audit_events (actor, action, target, detail) VALUES ($1, $2, $3, $4)",
        caller.who().subject, "resolve_riders", "",
        absl::StrCat("keys=", keys.size(), " found=", found));
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ResolveRider(grpc::ServerContext* ctx,
                                               const v1::ResolveRiderRequest* req,
                                               v1::ResolveRiderResponse* resp) {
  return Handle(ctx, "ResolveRider", [&](const Caller& caller) -> absl::Status {
    if (absl::Status s = CheckRiderKey(req->rider(), "rider"); !s.ok()) return s;
    if (absl::Status s = TakeThrottle("resolve-rider:" + caller.who().subject, kResolvesPerMinute,
                                      absl::Minutes(1), caller.now);
        !s.ok()) {
      return s;
    }
    std::vector<std::optional<v1::ResolvedRider>> found;
    if (absl::Status s = ResolveRiderKeys(caller, {&req->rider()}, &found); !s.ok()) return s;
    if (!found[0].has_value()) {
      return absl::NotFoundError("rider: no rider you can see matches");
    }
    *resp->mutable_rider() = *std::move(found[0]);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::BatchResolveRiders(grpc::ServerContext* ctx,
                                                     const v1::BatchResolveRidersRequest* req,
                                                     v1::BatchResolveRidersResponse* resp) {
  return Handle(ctx, "BatchResolveRiders", [&](const Caller& caller) -> absl::Status {
    if (req->riders().empty() || req->riders_size() > kMaxBatch) {
      return absl::InvalidArgumentError(absl::StrCat("riders: must hold 1–", kMaxBatch, " keys"));
    }
    std::vector<const v1::RiderKey*> keys;
    for (int i = 0; i < req->riders_size(); ++i) {
      if (absl::Status s = CheckRiderKey(req->riders(i), absl::StrCat("riders[", i, "]"));
          !s.ok()) {
        return s;
      }
      keys.push_back(&req->riders(i));
    }
    if (absl::Status s = TakeThrottle("batch-resolve-riders:" + caller.who().subject,
                                      kBatchesPerHour, absl::Hours(1), caller.now);
        !s.ok()) {
      return s;
    }
    std::vector<std::optional<v1::ResolvedRider>> found;
    if (absl::Status s = ResolveRiderKeys(caller, keys, &found); !s.ok()) return s;
    for (std::optional<v1::ResolvedRider>& rider : found) {
      v1::BatchResolveResult* result = resp->add_results();
      result->set_found(rider.has_value());
      if (rider.has_value()) *result->mutable_rider() = *std::move(rider);
    }
    return absl::OkStatus();
  });
}

}  // namespace civicpoints::identity
