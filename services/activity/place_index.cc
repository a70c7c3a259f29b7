#include "services/activity/place_index.h"

#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <cmath>
#include <iterator>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/log/log.h"
#include "common/pg/transactions.h"
#include "services/activity/support.h"

namespace civicpoints::activity {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

namespace {

// Longitude and latitude in degrees, as the table's box search took them.
using Point = bg::model::point<double, 2, bg::cs::cartesian>;
using Box = bg::model::box<Point>;

struct Entry {
  v1::Place place;
  std::vector<int> services;  // sorted
  double lat = 0, lon = 0;
};

// What the search filters on, kept in the tree's leaves beside the point: a search looks at a few
// hundred candidates and keeps about ten, and reading each candidate's Entry (a cache miss apiece,
// they lie all over the heap) cost three quarters of the search's time.
struct Meta {
  const Entry* entry = nullptr;
  uint64_t services = 0;  // bit v for each service value v < 64 (larger ones: the entry's list)
  int kind = 0;
  bool operator==(const Meta& other) const { return entry == other.entry; }
};

using Leaf = std::pair<Point, Meta>;
using Tree = bgi::rtree<Leaf, bgi::rstar<16>>;

Meta MetaOf(const Entry* e) {
  Meta m{.entry = e, .kind = e->place.kind()};
  for (int v : e->services) {
    if (v >= 0 && v < 64) m.services |= uint64_t{1} << v;
  }
  return m;
}

// Rows read per statement, on the first read and after a bulk load.
constexpr int kReadChunk = 5000;

bool OffersAll(const std::vector<int>& offered, const std::vector<int>& wanted) {
  for (int w : wanted) {
    if (!std::binary_search(offered.begin(), offered.end(), w)) return false;
  }
  return true;
}

}  // namespace

struct PlaceIndex::State {
  mutable absl::Mutex mu;
  // The change number applied for every place seen, retired ones too, so a late row of a place
  // never undoes a newer one.
  absl::flat_hash_map<std::string, int64_t> applied ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> open ABSL_GUARDED_BY(mu);
  Tree tree ABSL_GUARDED_BY(mu);
  int64_t last_read ABSL_GUARDED_BY(mu) = 0;  // the poller's watermark
};

PlaceIndex::PlaceIndex(pg::PgPool* pool, absl::Duration poll_every)
    : pool_(pool), poll_every_(poll_every), state_(std::make_unique<State>()) {
  poller_ = std::thread([this] { Run(); });
}

PlaceIndex::~PlaceIndex() {
  {
    absl::MutexLock lock(&stop_mu_);
    stop_ = true;
  }
  poller_.join();
}

void PlaceIndex::Run() {
  absl::Duration wait = poll_every_;
  for (;;) {
    const bool ok = ReadChanges();
    if (ok && !loaded_.HasBeenNotified()) loaded_.Notify();
    // After a failure the next try comes sooner, then backs off to the poll interval.
    wait = ok ? poll_every_ : std::min(poll_every_, absl::Milliseconds(200));
    absl::MutexLock lock(&stop_mu_);
    if (stop_mu_.AwaitWithTimeout(absl::Condition(&stop_), wait)) return;
  }
}

bool PlaceIndex::ReadChanges() {
  for (;;) {
    int64_t after;
    {
      absl::MutexLock lock(&state_->mu);
      after = state_->last_read;
    }
    std::vector<PgPlaceStore::NumberedPlace> rows;
    absl::Status s = pg::InReadTx(*pool_, "read place changes", [&](pqxx::transaction_base& tx) {
      rows = store_.ChangedAfter(tx, after, kReadChunk);
      return absl::OkStatus();
    });
    if (!s.ok()) {
      log::Warn("the place index could not read changes", {{"error", s.ToString()}});
      return false;
    }
    const bool more = static_cast<int>(rows.size()) == kReadChunk;
    if (!rows.empty()) {
      const int64_t newest = rows.back().change_no;
      Apply(std::move(rows));
      absl::MutexLock lock(&state_->mu);
      state_->last_read = std::max(state_->last_read, newest);
    }
    if (!more) return true;
  }
}

void PlaceIndex::Refresh(const std::string& place_id) {
  std::optional<PgPlaceStore::NumberedPlace> row;
  absl::Status s = pg::InReadTx(*pool_, "refresh place", [&](pqxx::transaction_base& tx) {
    row = store_.LoadNumbered(tx, place_id);
    return absl::OkStatus();
  });
  if (!s.ok()) {
    log::Warn("the place index could not read a place again",
              {{"place_id", place_id}, {"error", s.ToString()}});
    return;
  }
  if (row.has_value()) Apply({*std::move(row)});
}

void PlaceIndex::Apply(std::vector<PgPlaceStore::NumberedPlace> rows) {
  State& st = *state_;
  absl::MutexLock lock(&st.mu);
  // A first read of many places builds the tree packed (faster to search than one grown leaf by
  // leaf); later changes are a few removals and insertions.
  const bool bulk = st.open.empty() && rows.size() > 64;
  std::vector<Leaf> packed;
  for (PgPlaceStore::NumberedPlace& row : rows) {
    const std::string& id = row.place.place_id();
    int64_t& applied = st.applied[id];
    if (row.change_no <= applied) continue;
    applied = row.change_no;
    if (auto it = st.open.find(id); it != st.open.end()) {
      const Entry* old = it->second.get();
      st.tree.remove(Leaf(Point(old->lon, old->lat), MetaOf(old)));
      st.open.erase(it);
    }
    if (row.place.status() == v1::PLACE_STATUS_RETIRED) continue;
    auto entry = std::make_unique<Entry>();
    entry->services.assign(row.place.services().begin(), row.place.services().end());
    std::sort(entry->services.begin(), entry->services.end());
    entry->lat = row.place.location().latitude();
    entry->lon = row.place.location().longitude();
    entry->place = std::move(row.place);
    const Entry* e = entry.get();
    st.open.emplace(e->place.place_id(), std::move(entry));
    if (bulk) {
      packed.emplace_back(Point(e->lon, e->lat), MetaOf(e));
    } else {
      st.tree.insert(Leaf(Point(e->lon, e->lat), MetaOf(e)));
    }
  }
  if (bulk) st.tree = Tree(packed.begin(), packed.end());
}

absl::StatusOr<size_t> PlaceIndex::Nearest(
    const PgPlaceStore::Near& n, const std::function<bool(v1::Place, double)>& visit) const {
  if (!loaded_.WaitForNotificationWithTimeout(absl::Seconds(10))) {
    return absl::UnavailableError("places are still being read; try again shortly");
  }
  std::vector<int> wanted(n.services.begin(), n.services.end());
  std::sort(wanted.begin(), wanted.end());
  uint64_t wanted_bits = 0;
  bool wanted_high = false;
  for (int v : wanted) {
    if (v >= 0 && v < 64) {
      wanted_bits |= uint64_t{1} << v;
    } else {
      wanted_high = true;
    }
  }
  struct Hit {
    double distance;
    const Entry* entry;
  };
  std::vector<Hit> hits;
  const State& st = *state_;
  // Visited under the reader lock (each visit is a copy and a look at opening hours), so no
  // change is applied halfway through an answer.
  absl::ReaderMutexLock lock(&st.mu);
  const Box box(Point(n.lon_min, n.lat_min), Point(n.lon_max, n.lat_max));
  for (auto it = st.tree.qbegin(bgi::intersects(box)); it != st.tree.qend(); ++it) {
    const Meta& m = it->second;
    if (std::find(n.kinds.begin(), n.kinds.end(), m.kind) == n.kinds.end()) continue;
    if ((m.services & wanted_bits) != wanted_bits) continue;
    if (wanted_high && !OffersAll(m.entry->services, wanted)) continue;
    const double d = DistanceMeters(n.lat, n.lon, bg::get<1>(it->first), bg::get<0>(it->first));
    if (d > n.reach) continue;
    if (d < n.after_distance ||
        (d == n.after_distance && m.entry->place.place_id() <= n.after_id)) {
      continue;  // at or before the keyset's last row
    }
    hits.push_back({d, m.entry});
  }
  const size_t take = std::min(hits.size(), static_cast<size_t>(std::max(0, n.limit)));
  std::partial_sort(hits.begin(), hits.begin() + take, hits.end(), [](const Hit& a, const Hit& b) {
    if (a.distance != b.distance) return a.distance < b.distance;
    return a.entry->place.place_id() < b.entry->place.place_id();
  });
  for (size_t i = 0; i < take; ++i) {
    if (!visit(hits[i].entry->place, hits[i].distance)) break;
  }
  return take;
}

size_t PlaceIndex::size() const {
  absl::ReaderMutexLock lock(&state_->mu);
  return state_->open.size();
}

}  // namespace civicpoints::activity
