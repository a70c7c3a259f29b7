// Identity's input rules: phone spellings, masking, password strength, names, codes.
#include "services/identity/input_rules.h"

#include <gtest/gtest.h>

#include "services/identity/crypto.h"

namespace civicpoints::identity {
namespace {

TEST(InputRulesTest, PhoneNumbersInEveryAcceptedSpellingNormaliseToElevenDigits) {
  for (const char* spelling :
       {"13800138000", "+86 138-0013-8000", "8613800138000", "138 0013 8000"}) {
    absl::StatusOr<std::string> digits = NormalizePhone(spelling, "phone");
    ASSERT_TRUE(digits.ok()) << spelling << ": " << digits.status();
    EXPECT_EQ(*digits, "13800138000");
  }
  for (const char* bad :
       {"", "1380013800", "12800138000", "138001380001", "138a0138000", "+44 20 7946 0958"}) {
    absl::StatusOr<std::string> digits = NormalizePhone(bad, "phone");
    EXPECT_EQ(digits.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(digits.status().message().find("phone"), std::string::npos);
  }
  EXPECT_EQ(MaskPhone("13800138000"), "138****8000");
}

TEST(InputRulesTest, PasswordsNeedLengthVarietyAndNoPhoneOrCommonWord) {
  EXPECT_TRUE(CheckPassword("ride-safe-88", "13800138000", "password").ok());
  EXPECT_TRUE(CheckPassword("骑手安全第一2026", "", "password").ok());
  // A phone shorter than a number (found by fuzz_input_rules: it once threw out_of_range).
  EXPECT_TRUE(CheckPassword("ride-safe-88", "13", "password").ok());
  const struct {
    const char* password;
    const char* why;
  } kBad[] = {{"", "required"},
              {"a1b2c3", "shorter than 8"},
              {"abcdefghij", "two of"},
              {"Password123", "common"},
              {"x0013800138000", "phone"}};
  for (const auto& bad : kBad) {
    absl::Status s = CheckPassword(bad.password, "13800138000", "password");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad.password;
    EXPECT_NE(s.message().find(bad.why), std::string::npos) << s.message();
  }
  EXPECT_EQ(CheckPassword(std::string(65, 'a') + "1", "", "password").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckPassword(std::string(300, 'a') + "1", "", "password").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(InputRulesTest, CheckInCodesAreCaseInsensitiveAndAcceptTheQrForm) {
  EXPECT_EQ(*NormalizeCheckInCode("ab3d5f7h", "code"), "AB3D5F7H");
  EXPECT_EQ(*NormalizeCheckInCode("civicpoints:checkin:AB3D5F7H", "code"), "AB3D5F7H");
  EXPECT_FALSE(NormalizeCheckInCode("AB3D5F7", "code").ok());
  EXPECT_FALSE(NormalizeCheckInCode("AB3D5F70", "code").ok());  // 0 is not in the alphabet
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(NormalizeCheckInCode(NewCheckInCode(), "code").ok());
  }
}

TEST(InputRulesTest, OrgCodes) {
  EXPECT_TRUE(CheckOrgCode("140213", "code").ok());
  EXPECT_TRUE(CheckOrgCode("qyxj-01", "code").ok());
  EXPECT_FALSE(CheckOrgCode("x", "code").ok());
  EXPECT_FALSE(CheckOrgCode("清远", "code").ok());
}

TEST(CryptoTest, KeyedHashesDependOnTheMasterKeyAndSealedKeysOpenOnlyWithIt) {
  Secrets a = *Secrets::FromHex(Secrets::NewMasterKeyHex());
  Secrets b = *Secrets::FromHex(Secrets::NewMasterKeyHex());
  EXPECT_EQ(a.PhoneHash("13800138000"), a.PhoneHash("13800138000"));
  EXPECT_NE(a.PhoneHash("13800138000"), b.PhoneHash("13800138000"));
  EXPECT_EQ(a.RefreshSuccessor("cpr_x"), a.RefreshSuccessor("cpr_x"));
  EXPECT_NE(a.RefreshSuccessor("cpr_x"), a.RefreshSuccessor("cpr_y"));
  const std::string sealed = a.Seal("secret key bytes");
  EXPECT_EQ(*a.Unseal(sealed), "secret key bytes");
  EXPECT_EQ(b.Unseal(sealed).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(Secrets::FromHex("abcd").ok());
}

TEST(CryptoTest, PasswordHashesCarryTheirParametersAndVerify) {
  PasswordHasher fast{.opslimit = 1, .memlimit_bytes = 64 << 10};
  const std::string hash = fast.Hash("ride-safe-88");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_TRUE(PasswordHasher::Verify(hash, "ride-safe-88"));
  EXPECT_FALSE(PasswordHasher::Verify(hash, "ride-safe-89"));
  EXPECT_FALSE(PasswordHasher::Verify("", "ride-safe-88"));
  // The documented production parameters: 3 passes over 64 MiB.
  const std::string strong = PasswordHasher().Hash("ride-safe-88");
  EXPECT_NE(strong.find("m=65536,t=3"), std::string::npos) << strong;
}

}  // namespace
}  // namespace civicpoints::identity
