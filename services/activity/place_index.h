// PlaceIndex: every open place (not retired) held in memory for the nearby search, so a rider on
// the road is answered without a database round trip. Places change rarely and are read constantly.
//
// Kept current by the places table's change numbers (migration 0011): every insert or update of a
// place takes the next number, handed out in commit order (under a lock the writing transaction
// holds to its end), so "the rows numbered above the last one read" never misses a change. A
// poller reads them every second (the first read is every place; later ones any replica's writes
// or a bulk load); a place this process just wrote is read again at once (Refresh, after its
// commit), so a writer's next search sees it. A row never replaces one with a higher number,
// whichever way it arrives. Another replica's change is seen within about a second.
//
// The search is the same as PgPlaceStore::Nearest's over the table: the places of the wanted kinds
// offering every wanted service inside the box, at most `reach` metres away by great-circle
// distance (the same formula), after the keyset (distance, place id), nearest first, ties by id.
// Spatially the places sit in an R-tree (Boost.Geometry's, packed on a full read), which answers
// the box in microseconds. Thread-safe; searches share a reader lock.
#ifndef CIVICPOINTS_SERVICES_ACTIVITY_PLACE_INDEX_H_
#define CIVICPOINTS_SERVICES_ACTIVITY_PLACE_INDEX_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "civicpoints/activity/v1/place.pb.h"
#include "services/activity/pg_place_store.h"

namespace civicpoints::pg {
class PgPool;
}

namespace civicpoints::activity {

class PlaceIndex {
 public:
  // `pool` must outlive the index. Starts the poller, whose first act is the full read.
  explicit PlaceIndex(pg::PgPool* pool, absl::Duration poll_every = absl::Seconds(1));
  ~PlaceIndex();
  PlaceIndex(const PlaceIndex&) = delete;
  PlaceIndex& operator=(const PlaceIndex&) = delete;

  // Visits the places `near` asks for, nearest first, until `visit` returns false or `near.limit`
  // were visited; returns how many were visited (fewer than the limit: none are left within
  // reach). Errors: UNAVAILABLE when the first full read has not succeeded within 10 s.
  absl::StatusOr<size_t> Nearest(const PgPlaceStore::Near& near,
                                 const std::function<bool(v1::Place, double)>& visit) const;

  // Reads `place_id` again (after this process changed it). Failures are logged: the poll
  // catches up.
  void Refresh(const std::string& place_id);

  // The number of places searched (not retired), for tests and metrics.
  size_t size() const;

 private:
  struct State;
  void Run();
  // Reads every change numbered above the last one read; false when the database failed.
  bool ReadChanges();
  // Applies rows read from the table: each replaces what the index holds when its change number
  // is higher (a retired place leaves the index).
  void Apply(std::vector<PgPlaceStore::NumberedPlace> rows);

  pg::PgPool* const pool_;
  const PgPlaceStore store_{};
  const absl::Duration poll_every_;
  std::unique_ptr<State> state_;
  absl::Notification loaded_;
  absl::Mutex stop_mu_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread poller_;
};

}  // namespace civicpoints::activity

#endif  // CIVICPOINTS_SERVICES_ACTIVITY_PLACE_INDEX_H_
