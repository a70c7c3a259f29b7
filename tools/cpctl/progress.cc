#include "tools/cpctl/progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/time/clock.h"

namespace civicpoints::cpctl {
namespace {
constexpr int kBarWidth = 30;
}

Progress::Progress(std::string label, size_t total)
    : label_(std::move(label)), total_(total), tty_(::isatty(STDERR_FILENO) == 1) {}

void Progress::Draw(size_t done, size_t failed) {
  const size_t filled = total_ == 0 ? kBarWidth : done * kBarWidth / total_;
  std::string bar(filled, '#');
  bar.resize(kBarWidth, ' ');
  std::fprintf(stderr, "\r%s [%s] %zu/%zu rows, %zu bad", label_.c_str(), bar.c_str(), done, total_,
               failed);
  std::fflush(stderr);
}

void Progress::Update(size_t done, size_t failed) {
  if (tty_) {
    Draw(done, failed);
    return;
  }
  const size_t decile = total_ == 0 ? 10 : done * 10 / total_;
  const absl::Time now = absl::Now();
  if (decile > last_decile_ || now - last_line_ >= absl::Seconds(5)) {
    last_decile_ = decile;
    last_line_ = now;
    std::fprintf(stderr, "%s: %zu/%zu rows, %zu bad\n", label_.c_str(), done, total_, failed);
  }
}

void Progress::Finish(size_t done, size_t failed) {
  if (tty_) {
    Draw(done, failed);
    std::fputc('\n', stderr);
  } else if (last_decile_ < 10) {
    std::fprintf(stderr, "%s: %zu/%zu rows, %zu bad\n", label_.c_str(), done, total_, failed);
  }
}

}  // namespace civicpoints::cpctl
