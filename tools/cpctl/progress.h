// Progress of a long command on stderr: a bar redrawn in place when stderr is a terminal, otherwise
// (a log file, CI) a plain line every 10% or 5 seconds, so logs stay readable.
//
//   Progress p("import places", rows.size());
//   p.Update(done, failed);  ...  p.Finish(done, failed);
#ifndef CIVICPOINTS_TOOLS_CPCTL_PROGRESS_H_
#define CIVICPOINTS_TOOLS_CPCTL_PROGRESS_H_

#include <cstddef>
#include <string>

#include "absl/time/time.h"

namespace civicpoints::cpctl {

class Progress {
 public:
  Progress(std::string label, size_t total);
  // Shows `done` of the total handled, `failed` of them bad. Cheap to call for every row.
  void Update(size_t done, size_t failed);
  // Shows the final count and ends the line.
  void Finish(size_t done, size_t failed);

 private:
  void Draw(size_t done, size_t failed);

  std::string label_;
  size_t total_;
  bool tty_;
  size_t last_decile_ = 0;
  absl::Time last_line_ = absl::InfinitePast();
};

}  // namespace civicpoints::cpctl

#endif  // CIVICPOINTS_TOOLS_CPCTL_PROGRESS_H_
