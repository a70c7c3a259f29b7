// RankingWriter: group commit for the Redis side of rankings. Every committed mutation writes its
// riders' new scores to Redis before it answers (so a rider reads their own points); writing them
// one mutation at a time cost a Redis round trip and a dozen script calls per award. Writers that
// arrive while a write is in flight queue their scores, and the next of them writes everything
// queued in one pipelined round trip, one script call per ranking key. Versions make the merge
// safe: a member's newest score wins whatever the order (rankings.h). Thread-safe.
#ifndef CIVICPOINTS_SERVICES_LEDGER_RANKING_WRITER_H_
#define CIVICPOINTS_SERVICES_LEDGER_RANKING_WRITER_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/ledger/rankings.h"

namespace civicpoints::ledger {

class RankingWriter {
 public:
  // `rankings` must outlive the writer.
  explicit RankingWriter(Rankings* rankings) : rankings_(rankings) {}

  // Writes `scores` (with whatever other callers queued meanwhile) and returns the status of the
  // write that carried them.
  absl::Status Write(std::vector<RankingScore> scores);

  // Redis writes made since start, for tests.
  int64_t writes() const;

 private:
  struct Flush {
    absl::Status status;
    bool done = false;
  };

  Rankings* const rankings_;
  mutable absl::Mutex mu_;
  absl::CondVar flushed_;
  std::vector<RankingScore> queued_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Flush> next_ ABSL_GUARDED_BY(mu_);  // the write `queued_` goes out in
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t writes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace civicpoints::ledger

#endif  // CIVICPOINTS_SERVICES_LEDGER_RANKING_WRITER_H_
