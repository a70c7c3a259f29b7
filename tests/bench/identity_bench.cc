// identity_bench: logins per second through identity, and access-token verifications per second
// in the verifying process alone, with their anchors measured in the same run.
//
//   identity_bench --pg_url=URL --identity_bin=PATH [--seconds=5] [--riders=40]
//
// It starts its own identity process (production password hashing: argon2id, 3 passes, 64 MiB)
// on a fresh database, registers riders, and measures Login at 1, 2 and 4 callers. Then it fetches
// the JWKS once, STOPS identity, and verifies the collected tokens with TokenVerifier alone, so
// verification demonstrably never calls identity. Anchors: bare argon2id hashes per second with
// the same parameters (what a login must cost), and bare Ed25519 signature checks per second.
// Last line: one JSON object with every figure.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sodium.h>

#include <fstream>
#include <iostream>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "civicpoints/identity/v1/identity_service.grpc.pb.h"
#include "common/auth/jwt.h"
#include "common/config/config_parser.h"
#include "common/probe/probe.h"
#include "tests/bench/bench_support.h"

namespace cp = ::civicpoints;
namespace v1 = ::civicpoints::identity::v1;
using cp::bench::Measure;
using cp::bench::Run;

namespace {

struct Settings {
  std::string pg_url;
  std::string identity_bin;
  int64_t seconds = 5;
  int64_t riders = 40;
};

constexpr char kPassword[] = "ride-safe-88";

// argon2id with identity's production parameters, hashed directly.
Run Argon2Anchor(int threads, int64_t seconds) {
  return Measure(threads, seconds, [](int, int64_t) {
    char out[crypto_pwhash_STRBYTES];
    return crypto_pwhash_str_alg(out, kPassword, sizeof kPassword - 1, 3, 64u << 20,
                                 crypto_pwhash_ALG_ARGON2ID13) == 0;
  });
}

Run Ed25519Anchor(int threads, int64_t seconds) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  const std::string message(180, 'm');  // about a token's signed part
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), sk);
  return Measure(threads, seconds, [&](int, int64_t) {
    return crypto_sign_verify_detached(sig, reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(), pk) == 0;
  });
}

void Print(const std::string& what, const Run& r) {
  std::cout << absl::StrFormat("%-52s %9.0f/s  p50 %7.2f ms  p99 %7.2f ms  (%d calls, %d errors)\n",
                               what, r.per_second, r.p50_ms, r.p99_ms, r.calls, r.errors);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (sodium_init() < 0) return 1;
  Settings s;
  cp::config::ConfigParser parser("identity_bench",
                                  "identity logins and token verification, with anchors");
  parser.AddString("pg_url", "PostgreSQL server URL (an admin database)", &s.pg_url, true);
  parser.AddString("identity_bin", "path of civicpoints-identity", &s.identity_bin, true);
  parser.AddInt("seconds", "seconds per measured run", &s.seconds, 1, 600);
  parser.AddInt("riders", "riders registered (and logging in)", &s.riders, 1, 10000);
  if (const int exit_code = cp::bench::ParseSettings(parser, argc, argv); exit_code >= 0) {
    return exit_code;
  }
  std::cout << "machine: " << cp::bench::MachineLine() << "\n";

  const Run argon1 = Argon2Anchor(1, s.seconds);
  const Run argon2 = Argon2Anchor(2, s.seconds);
  Print("anchor argon2id (t=3, 64 MiB) hashes, 1 thread", argon1);
  Print("anchor argon2id (t=3, 64 MiB) hashes, 2 threads", argon2);
  const Run ed1 = Ed25519Anchor(1, s.seconds);
  const Run ed2 = Ed25519Anchor(2, s.seconds);
  Print("anchor Ed25519 signature checks, 1 thread", ed1);
  Print("anchor Ed25519 signature checks, 2 threads", ed2);

  cp::bench::RecreateDatabase(s.pg_url, "cp_bench_identity");
  const std::string key_path = "/tmp/cp-identity-bench.key";
  {
    unsigned char key[32];
    randombytes_buf(key, sizeof key);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    std::ofstream(key_path) << hex;
  }
  const int port = cp::bench::FreePort();
  const pid_t identity = cp::bench::StartProcess(
      s.identity_bin, {{"CP_PG_URL", cp::bench::WithDatabase(s.pg_url, "cp_bench_identity")},
                       {"CP_GRPC_PORT", std::to_string(port)},
                       {"CP_METRICS_PORT", "0"},
                       {"CP_IDENTITY_MASTER_KEY_FILE", key_path},
                       {"CP_PG_POOL_SIZE", "8"},
                       {"CP_LOG_LEVEL", "warn"}});
  const std::string address = absl::StrCat("127.0.0.1:", port);
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  if (!cp::probe::WaitUntilServing(channel, absl::Seconds(60))) {
    std::cerr << "identity did not start\n";
    cp::bench::StopProcess(identity);
    return 1;
  }
  auto stub = v1::IdentityService::NewStub(channel);
  v1::GetPrivacyPolicyResponse policy;
  {
    grpc::ClientContext ctx;
    stub->GetPrivacyPolicy(&ctx, {}, &policy);
  }
  const absl::Time reg_start = absl::Now();
  int registered = 0;
  for (int i = 0; i < s.riders; ++i) {
    v1::RegisterRiderRequest req;
    req.set_idempotency_key(absl::StrCat("bench-", i));
    req.set_phone(absl::StrFormat("138%08d", i));
    req.set_password(kPassword);
    req.set_display_name(absl::StrCat("骑手", i));
    req.mutable_consent()->set_policy_version(policy.policy_version());
    for (const auto& p : policy.purposes()) req.mutable_consent()->add_purposes(p.purpose());
    grpc::ClientContext ctx;
    v1::RegisterRiderResponse resp;
    grpc::Status st = stub->RegisterRider(&ctx, req, &resp);
    if (st.ok()) {
      ++registered;
    } else if (i == 0) {
      std::cerr << "register failed: " << st.error_message() << "\n";
    }
  }
  const double reg_per_s = registered / absl::ToDoubleSeconds(absl::Now() - reg_start);
  std::cout << absl::StrFormat("%-52s %9.1f/s  (%d riders)\n", "registrations, 1 caller", reg_per_s,
                               registered);

  std::mutex tokens_mu;
  std::vector<std::string> tokens;
  std::map<int, Run> logins;
  for (int callers : {1, 2, 4}) {
    logins[callers] = Measure(callers, s.seconds, [&](int c, int64_t i) {
      const int rider = static_cast<int>((c * 7919 + i) % s.riders);
      v1::LoginRequest req;
      req.set_phone(absl::StrFormat("138%08d", rider));
      req.set_password(kPassword);
      grpc::ClientContext ctx;
      v1::LoginResponse resp;
      if (!stub->Login(&ctx, req, &resp).ok()) return false;
      std::lock_guard<std::mutex> lock(tokens_mu);
      tokens.push_back(resp.tokens().access_token());
      return true;
    });
    Print(absl::StrCat("logins, ", callers, " callers"), logins[callers]);
  }

  // The verifier gets the public keys once, then identity goes away.
  v1::GetJwksResponse jwks;
  {
    grpc::ClientContext ctx;
    stub->GetJwks(&ctx, {}, &jwks);
  }
  cp::bench::StopProcess(identity);
  cp::auth::KeySet keys;
  for (const v1::Jwk& k : jwks.keys()) {
    std::string raw;
    cp::auth::Ed25519PublicKey pk;
    if (!cp::auth::Base64UrlDecode(k.x(), &raw) || raw.size() != pk.size()) continue;
    std::copy(raw.begin(), raw.end(), pk.begin());
    keys.Add(k.kid(), pk);
  }
  auto provider = std::make_shared<cp::auth::StaticKeyProvider>(keys);
  // Every call with a token not seen before: the full check (parse, signature, claims).
  std::map<int, Run> verify;
  for (int threads : {1, 2}) {
    verify[threads] = Measure(threads, s.seconds, [&](int, int64_t i) {
      cp::auth::TokenVerifier fresh(provider);  // empty cache: nothing is remembered
      return fresh.Verify(tokens[i % tokens.size()], absl::Now()).ok();
    });
    Print(absl::StrCat("token verifications (uncached), ", threads, " threads, identity down"),
          verify[threads]);
  }
  // A client's repeated calls with the same token: the verifier's cache.
  cp::auth::TokenVerifier shared(provider);
  const Run cached = Measure(2, s.seconds, [&](int, int64_t i) {
    return shared.Verify(tokens[i % std::min<size_t>(tokens.size(), 100)], absl::Now()).ok();
  });
  Print("token verifications (repeat tokens, cached), 2 threads", cached);

  const double logins_vs_argon =
      argon2.per_second > 0 ? logins[2].per_second / argon2.per_second : 0;
  const double verify_vs_ed25519 = ed2.per_second > 0 ? verify[2].per_second / ed2.per_second : 0;
  std::cout << absl::StrFormat(
      "{\"machine\":\"%s\",\"seconds_per_run\":%d,\"riders\":%d,\"registrations_per_s\":%.1f,"
      "\"logins_per_s\":{\"1\":%.1f,\"2\":%.1f,\"4\":%.1f},"
      "\"login_p99_ms\":{\"1\":%.1f,\"2\":%.1f,\"4\":%.1f},\"login_errors\":%d,"
      "\"argon2id_hashes_per_s\":{\"1\":%.1f,\"2\":%.1f},"
      "\"verifications_per_s\":{\"1\":%.0f,\"2\":%.0f},\"verification_errors\":%d,"
      "\"cached_verifications_per_s\":%.0f,\"ed25519_checks_per_s\":{\"1\":%.0f,\"2\":%.0f},"
      "\"logins_vs_argon2id\":%.2f,\"verifications_vs_ed25519\":%.2f,"
      "\"verified_with_identity_stopped\":true}\n",
      cp::bench::MachineLine(), s.seconds, registered, reg_per_s, logins[1].per_second,
      logins[2].per_second, logins[4].per_second, logins[1].p99_ms, logins[2].p99_ms,
      logins[4].p99_ms, logins[1].errors + logins[2].errors + logins[4].errors, argon1.per_second,
      argon2.per_second, verify[1].per_second, verify[2].per_second,
      verify[1].errors + verify[2].errors, cached.per_second, ed1.per_second, ed2.per_second,
      logins_vs_argon, verify_vs_ed25519);
  return 0;
}
