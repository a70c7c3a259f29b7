// What the fuzz targets share: a reader that takes typed pieces from the fuzzer's bytes, and
// FUZZ_CHECK, which aborts (a finding for libFuzzer, a failed test for the corpus replay) when a
// property the code promises does not hold.
#ifndef CIVICPOINTS_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define CIVICPOINTS_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)

namespace civicpoints::fuzz {

// Takes pieces off the front of the input; once it is used up every piece is empty or zero, so a
// target never reads past the end.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  uint8_t Byte() {
    if (rest_.empty()) return 0;
    const uint8_t b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  // A string of up to `max` bytes, its length given by the next byte.
  std::string String(size_t max = 255) {
    size_t n = Byte();
    if (n > max) n = max;
    if (n > rest_.size()) n = rest_.size();
    std::string out(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return out;
  }
  // Up to the next newline (dropped), or everything left.
  std::string Line() {
    const size_t nl = rest_.find('\n');
    std::string out(rest_.substr(0, nl));
    rest_.remove_prefix(nl == absl::string_view::npos ? rest_.size() : nl + 1);
    return out;
  }
  std::string Rest() {
    std::string out(rest_);
    rest_ = {};
    return out;
  }
  bool empty() const { return rest_.empty(); }

 private:
  absl::string_view rest_;
};

}  // namespace civicpoints::fuzz

#endif  // CIVICPOINTS_TESTS_FUZZ_FUZZ_SUPPORT_H_
