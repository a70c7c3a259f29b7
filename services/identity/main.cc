// civicpoints-identity: org tree, people, community check-in, roles, login, API keys.
// Wiring only: secrets and signing keys first (they also verify incoming tokens), then the service
// and the relay that publishes its events (with a token identity signs itself).
#include <fstream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/config/config_parser.h"
#include "common/events/event_relay.h"
#include "common/log/log.h"
#include "common/server/peer_channel.h"
#include "common/server/service_main.h"
#include "common/server/service_token.h"
#include "services/identity/crypto.h"
#include "services/identity/identity_service.h"
#include "services/identity/key_ring.h"
#include "services/identity/rider_orders.h"
#include "services/identity/self_token.h"
#include "services/identity/sms_sender.h"
#include "services/identity/sql_enums.h"

std::vector<std::pair<std::string, std::string>> IdentityMigrations();

namespace {

using namespace civicpoints;

struct IdentitySettings {
  std::string master_key_file;
  std::string city_name = "大同市";
  std::string bootstrap_admin_phone;
  std::string bootstrap_admin_password;
  int64_t pwhash_opslimit = 3;
  int64_t pwhash_memlimit_mib = 64;
  int64_t hash_memory_budget_mib = 256;
  int64_t registrations_per_address = 200;
  bool trust_client_address = false;
  std::string internal_service_keys;
  std::string sms_sender = "off";
  std::string sms_http_url;
  std::string sms_http_token_file;
  std::string rewards_addr;
};

IdentitySettings g_settings;

// The SMS sender the settings name; null for "off". Errors: INVALID_ARGUMENT naming the setting.
absl::StatusOr<std::shared_ptr<identity::SmsSender>> MakeSmsSender() {
  if (g_settings.sms_sender == "off") return nullptr;
  if (g_settings.sms_sender == "log") {
    log::Warn("SMS codes are written to this log (identity_sms_sender=log): development only");
    return std::make_shared<identity::LoggingSmsSender>();
  }
  if (g_settings.sms_sender != "http") {
    return absl::InvalidArgumentError(
        "setting --identity_sms_sender (CP_IDENTITY_SMS_SENDER): must be off, log or http");
  }
  if (!absl::StartsWith(g_settings.sms_http_url, "https://") &&
      !absl::StartsWith(g_settings.sms_http_url, "http://127.0.0.1")) {
    return absl::InvalidArgumentError(
        "setting --identity_sms_http_url (CP_IDENTITY_SMS_HTTP_URL): an https:// URL is required "
        "with identity_sms_sender=http");
  }
  std::ifstream in(g_settings.sms_http_token_file);
  std::string token;
  std::getline(in, token);
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        "setting --identity_sms_http_token_file (CP_IDENTITY_SMS_HTTP_TOKEN_FILE): a readable "
        "file holding the SMS gateway's token is required with identity_sms_sender=http");
  }
  return std::make_shared<identity::HttpSmsSender>(g_settings.sms_http_url, token);
}

// What identity's service uses (BuiltService::parts). Made when storage is up, before the
// factory, because the token verifier needs the key ring first; the verifier's pointer to the ring
// shares ownership of the whole, so the secrets live as long as the ring.
struct IdentityParts {
  explicit IdentityParts(identity::Secrets s, pg::PgPool* pool)
      : secrets(std::move(s)), keys(pool, &secrets) {}
  identity::Secrets secrets;
  identity::KeyRing keys;
  std::unique_ptr<events::EventRelay> event_relay;  // null without --events_addr
};
std::shared_ptr<IdentityParts> g_parts;  // from own_keys to the factory

}  // namespace

int main(int argc, char** argv) {
  return server::RunService(
      {.name = "identity",
       .description = "org tree, people, community check-in, roles, login, API keys",
       .default_grpc_port = 50051,
       .default_metrics_port = 9151,
       .uses_postgres = true,
       .uses_redis = false,
       .publishes_events = true,
       .migrations = &IdentityMigrations,
       .sql_enums = identity::IdentitySqlEnums(),
       .extra_settings =
           [](config::ConfigParser& parser) {
             parser.AddString("identity_master_key_file",
                              "file holding the 64-hex-digit master key that keys phone hashes, "
                              "API key hashes and sealed signing keys (keep it secret, back it "
                              "up; required unless --migrate_only)",
                              &g_settings.master_key_file, /*required=*/false);
             parser.AddString("identity_city_name", "the city root's display name",
                              &g_settings.city_name);
             parser.AddString("identity_bootstrap_admin_phone",
                              "phone of the first district admin, created at the city root when "
                              "none exists",
                              &g_settings.bootstrap_admin_phone);
             parser.AddSecret("identity_bootstrap_admin_password",
                              "that admin's initial password (must be changed at first login)",
                              &g_settings.bootstrap_admin_password);
             parser.AddInt("identity_pwhash_opslimit", "argon2id passes per password hash",
                           &g_settings.pwhash_opslimit, 1, 10);
             parser.AddBool("identity_trust_client_address",
                            "take the client's address for throttling from x-client-address "
                            "metadata (only when every caller comes through the gateway)",
                            &g_settings.trust_client_address);
             parser.AddString("identity_internal_service_keys",
                              "the suite's services that call others, as name=key_file pairs "
                              "separated by commas (activity=/run/keys/activity.key): each gets "
                              "an internal service account holding the API key in its file",
                              &g_settings.internal_service_keys);
             parser.AddInt("identity_pwhash_memlimit_mib", "argon2id memory per password hash",
                           &g_settings.pwhash_memlimit_mib, 1, 1024);
             parser.AddInt("identity_hash_memory_budget_mib",
                           "memory all password hashes in flight may take together: with "
                           "identity_pwhash_memlimit_mib it bounds concurrent hashes (256/64 = 4); "
                           "beyond them a login waits 250 ms, then gets RESOURCE_EXHAUSTED with a "
                           "retry delay. Keep it well under the pod's memory limit",
                           &g_settings.hash_memory_budget_mib, 1, 65536);
             parser.AddString(
                 "identity_sms_sender",
                 "where one-time SMS codes go: off (no password reset or SMS sign-in), "
                 "log (written to this log: development only) or http",
                 &g_settings.sms_sender);
             parser.AddString("identity_sms_http_url",
                              "the SMS gateway's HTTPS endpoint (identity_sms_sender=http), which "
                              "is POSTed {phone, purpose, code, text} as JSON",
                              &g_settings.sms_http_url);
             parser.AddString("identity_sms_http_token_file",
                              "file holding the bearer token for identity_sms_http_url",
                              &g_settings.sms_http_token_file);
             parser.AddString("rewards_addr",
                              "rewards' gRPC host:port, asked to end a rider's orders before the "
                              "rider's own account closing erases it (CloseMyAccount)",
                              &g_settings.rewards_addr);
             parser.AddInt("identity_registrations_per_address",
                           "rider registrations one client address may make per hour (sliding)",
                           &g_settings.registrations_per_address, 1, 1000000);
           },
       .own_keys =
           [](server::ServiceDeps& deps) -> absl::StatusOr<std::shared_ptr<auth::KeyProvider>> {
         // Checked here rather than at parsing: a migration run (--migrate_only) stops before
         // this and must not need the key (the migration job does not mount it).
         if (g_settings.master_key_file.empty()) {
           return absl::InvalidArgumentError(
               "setting --identity_master_key_file (CP_IDENTITY_MASTER_KEY_FILE) is required to "
               "serve");
         }
         absl::StatusOr<identity::Secrets> secrets =
             identity::Secrets::FromFile(g_settings.master_key_file);
         if (!secrets.ok()) {
           return absl::InvalidArgumentError(
               absl::StrCat("setting --identity_master_key_file (CP_IDENTITY_MASTER_KEY_FILE): ",
                            secrets.status().message()));
         }
         g_parts = std::make_shared<IdentityParts>(*std::move(secrets), deps.pg);
         if (absl::Status s = g_parts->keys.EnsureKey(absl::Now()); !s.ok()) return s;
         return std::shared_ptr<auth::KeyProvider>(g_parts, &g_parts->keys);
       },
       .own_service_token = [](server::ServiceDeps&) -> std::unique_ptr<server::ServiceToken> {
         // Identity signs its own token (to publish its events) rather than exchange a key.
         return std::make_unique<identity::SelfToken>(&g_parts->keys);
       },
       .own_revocations =
           [](server::ServiceDeps& deps) -> std::shared_ptr<const auth::RevocationChecker> {
         // Identity checks its own list; the others poll ListRevocations.
         return std::make_shared<identity::RevocationFeed>(
             deps.pg, identity::RevocationWindow(identity::IdentityOptions().access_token_ttl));
       }},
      argc, argv,
      [](server::ServiceDeps& deps) -> absl::StatusOr<std::vector<server::BuiltService>> {
        identity::IdentityOptions options;
        options.city_name = g_settings.city_name;
        options.hasher.opslimit = static_cast<uint64_t>(g_settings.pwhash_opslimit);
        options.hasher.memlimit_bytes = static_cast<size_t>(g_settings.pwhash_memlimit_mib) << 20;
        options.trust_client_address_header = g_settings.trust_client_address;
        options.hash_memory_budget_bytes = static_cast<size_t>(g_settings.hash_memory_budget_mib)
                                           << 20;
        options.registrations_per_address = static_cast<int>(g_settings.registrations_per_address);
        absl::StatusOr<std::shared_ptr<identity::SmsSender>> sms = MakeSmsSender();
        if (!sms.ok()) return sms.status();
        options.sms_sender = *std::move(sms);
        if (!g_settings.rewards_addr.empty()) {
          options.rider_orders = std::make_shared<identity::GrpcRiderOrders>(
              server::PeerChannel(g_settings.rewards_addr), deps.service_token);
        }
        auto service = std::make_unique<identity::IdentityServiceImpl>(
            deps.pg, &g_parts->secrets, &g_parts->keys, deps.authorizer, options);
        if (absl::Status s = service->SetCityName(); !s.ok()) return s;
        if (!g_settings.bootstrap_admin_phone.empty()) {
          if (absl::Status s = service->BootstrapAdmin(
                  g_settings.bootstrap_admin_phone, g_settings.bootstrap_admin_password, "管理员");
              !s.ok()) {
            return s;
          }
        }
        for (absl::string_view pair :
             absl::StrSplit(g_settings.internal_service_keys, ',', absl::SkipWhitespace())) {
          std::vector<std::string> parts = absl::StrSplit(pair, absl::MaxSplits('=', 1));
          absl::StatusOr<std::string> key =
              parts.size() == 2
                  ? server::ReadApiKeyFile(std::string(absl::StripAsciiWhitespace(parts[1])))
                  : absl::InvalidArgumentError(absl::StrCat("'", pair, "' is not name=key_file"));
          absl::Status s = key.ok() ? service->EnsureInternalServiceKey(
                                          std::string(absl::StripAsciiWhitespace(parts[0])), *key)
                                    : key.status();
          if (!s.ok()) {
            return absl::Status(s.code(), absl::StrCat("setting --identity_internal_service_keys "
                                                       "(CP_IDENTITY_INTERNAL_SERVICE_KEYS): ",
                                                       s.message()));
          }
        }
        g_parts->event_relay = events::StartEventRelay("identity", deps);
        std::vector<server::BuiltService> services;
        services.push_back({.name = identity::v1::IdentityService::service_full_name(),
                            .parts = std::move(g_parts),
                            .service = std::move(service)});
        return services;
      });
}
