// Token verification, as the gateway and every service run it on the bearer token of each call.
// The first byte chooses:
//   even  the rest is a token, verified against a fixed key at a fixed time: it is refused with
//         UNAUTHENTICATED or yields a principal with a subject;
//   odd   the rest describes a principal, which is signed with the fixed key and verified: the
//         principal read back is the one signed (subject, roles, scopes, session, kind, name).
// Base64url decoding, used on each part of a token, must round-trip what it accepts.
#include <sodium.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"
#include "common/base/text.h"
#include "tests/fuzz/fuzz_support.h"

namespace civicpoints::fuzz {
namespace {

// A key pair from a fixed seed, so a token in the corpus stays valid.
struct FixedKey {
  auth::Ed25519PublicKey public_key;
  auth::Ed25519SecretKey secret_key;
  FixedKey() {
    unsigned char seed[crypto_sign_SEEDBYTES] = {'c', 'i', 'v', 'i', 'c', 'p',
                                                 'o', 'i', 'n', 't', 's'};
    crypto_sign_seed_keypair(public_key.data(), secret_key.data(), seed);
  }
};

const FixedKey& Key() {
  static const FixedKey* key = new FixedKey();
  return *key;
}

const auth::TokenVerifier& Verifier() {
  static const auth::TokenVerifier* verifier = [] {
    auth::KeySet keys;
    keys.Add("fuzz", Key().public_key);
    return new auth::TokenVerifier(std::make_shared<auth::StaticKeyProvider>(std::move(keys)));
  }();
  return *verifier;
}

// 2026-12-01T00:00:00Z: the corpus's tokens are issued around it.
const absl::Time kNow = absl::FromUnixSeconds(1796083200);

void VerifyToken(const std::string& token) {
  std::string bytes;
  if (auth::Base64UrlDecode(token, &bytes)) {
    std::string again;
    FUZZ_CHECK(auth::Base64UrlDecode(auth::Base64UrlEncode(bytes), &again) && again == bytes);
  }
  const absl::StatusOr<auth::Principal> who = Verifier().Verify(token, kNow);
  if (!who.ok()) {
    FUZZ_CHECK(who.status().code() == absl::StatusCode::kUnauthenticated);
    return;
  }
  FUZZ_CHECK(!who->subject.empty());
  FUZZ_CHECK(who->key_id == "fuzz");
}

void SignAndVerify(FuzzInput& in) {
  auth::Principal p;
  // A subject is never empty. (StrCat: GCC 12's -Wrestrict raises a false alarm on a literal
  // added to or assigned over a std::string here, its bug 105329.)
  p.subject = absl::StrCat("p", in.String(64));
  p.token_id = in.String(40);
  p.session_id = in.String(40);
  p.kind = in.String(20);
  p.display_name = in.String(80);
  p.password_change_required = in.Byte() & 1;
  for (int n = in.Byte() % 4; n > 0; --n) {
    auth::RoleGrant grant;
    grant.role = static_cast<auth::Role>(1 + in.Byte() % 8);
    grant.org_id = in.String(40);
    p.roles.push_back(std::move(grant));
  }
  for (int n = in.Byte() % 3; n > 0; --n) p.scopes.push_back(in.String(30));
  p.issued_at = kNow - absl::Seconds(in.Byte());
  p.expires_at = kNow + absl::Minutes(15);
  static const auth::TokenSigner* signer = new auth::TokenSigner("fuzz", Key().secret_key);
  const absl::StatusOr<auth::Principal> back = Verifier().Verify(signer->Sign(p), kNow);
  FUZZ_CHECK(back.ok());
  // Text that is not UTF-8 is signed with U+FFFD in its place; only UTF-8 reads back as it was.
  bool utf8 = text::Utf8Length(p.subject) && text::Utf8Length(p.token_id) &&
              text::Utf8Length(p.session_id) && text::Utf8Length(p.kind) &&
              text::Utf8Length(p.display_name);
  for (const auth::RoleGrant& g : p.roles) utf8 = utf8 && text::Utf8Length(g.org_id);
  for (const std::string& s : p.scopes) utf8 = utf8 && text::Utf8Length(s);
  if (!utf8) return;
  FUZZ_CHECK(back->subject == p.subject);
  FUZZ_CHECK(back->roles == p.roles);
  FUZZ_CHECK(back->scopes == p.scopes);
  FUZZ_CHECK(back->session_id == p.session_id);
  FUZZ_CHECK(back->kind == p.kind);
  FUZZ_CHECK(back->display_name == p.display_name);
  FUZZ_CHECK(back->password_change_required == p.password_change_required);
}

}  // namespace
}  // namespace civicpoints::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  civicpoints::fuzz::FuzzInput in(data, size);
  if ((in.Byte() & 1) == 0) {
    civicpoints::fuzz::VerifyToken(in.Rest());
  } else {
    civicpoints::fuzz::SignAndVerify(in);
  }
  return 0;
}
