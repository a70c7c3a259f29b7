// cp_devtoken: development access tokens until identity issues real ones.
//
//   cp_devtoken init DIR                      make a signing key: DIR/signing.key (secret, 0600)
//                                             and DIR/jwks.json (public, for CP_JWKS_FILE)
//   cp_devtoken sign DIR --subject=ID --role=ROLE_... [--org=NODE] [--scope=S] [--ttl=15m]
//                                             print a signed access token
//
// `make run` keeps its key under .run/keys and points every service at its jwks.json. The key
// never leaves the machine; production keys are identity's.
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "common/auth/jwt.h"
#include "common/config/config_parser.h"

namespace auth = civicpoints::auth;

namespace {

constexpr char kKid[] = "dev";

int Init(const std::string& dir) {
  mkdir(dir.c_str(), 0700);
  auth::Ed25519PublicKey pk;
  auth::Ed25519SecretKey sk;
  auth::TokenSigner::GenerateKeyPair(&pk, &sk);
  const std::string secret_path = dir + "/signing.key";
  {
    std::ofstream out(secret_path, std::ios::trunc);
    out << absl::BytesToHexString(std::string(reinterpret_cast<char*>(sk.data()), sk.size()));
    if (!out) {
      std::cerr << "cannot write " << secret_path << "\n";
      return 1;
    }
  }
  chmod(secret_path.c_str(), 0600);
  auth::KeySet keys;
  keys.Add(kKid, pk);
  std::ofstream(dir + "/jwks.json", std::ios::trunc) << keys.ToJwks();
  std::cout << dir << "/jwks.json\n";
  return 0;
}

int Sign(const std::string& dir, int argc, char** argv) {
  std::string subject, role_name, org, scope;
  absl::Duration ttl = absl::Minutes(15);
  civicpoints::config::ConfigParser parser("cp_devtoken sign", "print a development access token");
  parser.AddString("subject", "the principal's id (person id, or svc:NAME)", &subject, true);
  parser.AddString("role", "a role, e.g. ROLE_INTERNAL_SERVICE or ROLE_STREET_STAFF", &role_name,
                   true);
  parser.AddString("org", "the org node the role is held at (root for the whole city; empty: none)",
                   &org);
  parser.AddString("scope", "an API-key scope for ROLE_CITY_SYSTEM, e.g. ledger.read", &scope);
  parser.AddDuration("ttl", "lifetime", &ttl, absl::Minutes(1), absl::Hours(24));
  if (absl::Status s = parser.Parse(argc, argv, civicpoints::config::MapEnvironment({})); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  if (parser.help_requested()) {
    std::cout << parser.Usage();
    return 0;
  }
  auth::Principal p;
  p.subject = subject;
  auth::Role role;
  if (!auth::ParseRoleName(role_name, &role)) {
    std::cerr << "--role '" << role_name << "' is not a role (e.g. ROLE_RIDER)\n";
    return 2;
  }
  p.roles = {{role, org}};
  if (!scope.empty()) p.scopes = {scope};
  p.issued_at = absl::Now();
  p.expires_at = p.issued_at + ttl;
  std::ifstream in(dir + "/signing.key");
  std::stringstream hex;
  hex << in.rdbuf();
  const std::string bytes = absl::HexStringToBytes(hex.str());
  if (!in || bytes.size() != 64) {
    std::cerr << "no signing key in " << dir << "; run: cp_devtoken init " << dir << "\n";
    return 1;
  }
  auth::Ed25519SecretKey sk;
  std::copy(bytes.begin(), bytes.end(), sk.begin());
  std::cout << auth::TokenSigner(kKid, sk).Sign(p) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "init" && argc == 3) return Init(argv[2]);
  if (command == "sign" && argc >= 3) return Sign(argv[2], argc - 2, argv + 2);
  std::cerr << "usage: cp_devtoken init DIR | cp_devtoken sign DIR --subject=ID --role=ROLE_... "
               "[--org=NODE] [--scope=S] [--ttl=15m]\n";
  return 2;
}
