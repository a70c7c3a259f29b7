// The text rules every service applies to what callers type: phone numbers, passwords, org
// codes, check-in codes (identity), and UTF-8 text and idempotency keys (all services). The
// first byte picks the rule. Properties: a refusal is INVALID_ARGUMENT naming the field; a phone
// number accepted is 11 digits starting with 1 and normalises to itself; a check-in code
// accepted is 8 characters of the code alphabet; text accepted is valid UTF-8 within its length.
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/base/text.h"
#include "services/identity/input_rules.h"
#include "tests/fuzz/fuzz_support.h"

namespace civicpoints::fuzz {
namespace {

void CheckRefusal(const absl::Status& status, absl::string_view field) {
  if (status.ok()) return;
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  FUZZ_CHECK(absl::StrContains(status.message(), field));
}

void Phone(const std::string& text) {
  const absl::StatusOr<std::string> digits = identity::NormalizePhone(text, "phone");
  CheckRefusal(digits.status(), "phone");
  if (!digits.ok()) return;
  FUZZ_CHECK(digits->size() == 11 && (*digits)[0] == '1');
  for (char c : *digits) FUZZ_CHECK(absl::ascii_isdigit(static_cast<unsigned char>(c)));
  const absl::StatusOr<std::string> again = identity::NormalizePhone(*digits, "phone");
  FUZZ_CHECK(again.ok() && *again == *digits);
  FUZZ_CHECK(identity::MaskPhone(*digits).size() == 11);
}

void CheckInCode(const std::string& text) {
  const absl::StatusOr<std::string> code = identity::NormalizeCheckInCode(text, "code");
  CheckRefusal(code.status(), "code");
  if (!code.ok()) return;
  FUZZ_CHECK(code->size() == identity::kCheckInCodeLength);
  for (char c : *code) FUZZ_CHECK(absl::StrContains(identity::kCheckInCodeAlphabet, c));
}

void Text(FuzzInput& in) {
  const uint8_t shape = in.Byte();
  const text::TextRule rule{.max = static_cast<size_t>(in.Byte()),
                            .required = (shape & 1) != 0,
                            .lines = (shape & 2) != 0 ? text::Lines::kMany : text::Lines::kOne};
  const std::string value = in.Rest();
  const absl::Status status = text::CheckText(value, "title", rule);
  CheckRefusal(status, "title");
  const std::optional<size_t> length = text::Utf8Length(value);
  if (status.ok()) {
    FUZZ_CHECK(length.has_value() && *length <= rule.max);
    FUZZ_CHECK(text::CountChars(value) == *length);
  }
  CheckRefusal(text::CheckIdempotencyKey(value), "idempotency_key");
}

}  // namespace
}  // namespace civicpoints::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace civicpoints;
  fuzz::FuzzInput in(data, size);
  switch (in.Byte() % 5) {
    case 0:
      fuzz::Phone(in.Rest());
      break;
    case 1: {
      const std::string phone = in.String(20);
      fuzz::CheckRefusal(identity::CheckPassword(in.Rest(), phone, "password"), "password");
      break;
    }
    case 2:
      fuzz::CheckRefusal(identity::CheckOrgCode(in.Rest(), "code"), "code");
      break;
    case 3:
      fuzz::CheckInCode(in.Rest());
      break;
    default:
      fuzz::Text(in);
  }
  return 0;
}
