// Keyset paging shared by every service's list methods: page sizes, opaque page tokens bound to
// the list's filters, and filling a page from rows fetched one past the page size.
#ifndef CIVICPOINTS_COMMON_PG_PAGING_H_
#define CIVICPOINTS_COMMON_PG_PAGING_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace pqxx {
class result;
class row;
}  // namespace pqxx

namespace civicpoints::pg {

// Page sizes: default 20, at most `max` (larger is clamped); negative is INVALID_ARGUMENT.
absl::StatusOr<int> PageSize(int32_t requested, int max = 100);

// A message's deterministic serialisation (map order fixed), for hashing.
std::string DeterministicBytes(const google::protobuf::Message& message);

// A tag of a list request's filters (the request with its page fields cleared), so a page token
// is refused with other filters.
std::string FilterTag(const google::protobuf::Message& request_without_paging);

// Opaque page tokens carrying the keyset position (the last row's sort keys).
std::string EncodePageToken(const std::string& filter_tag, const std::vector<std::string>& keys);
// Errors: INVALID_ARGUMENT naming page_token when it is malformed, has a different number of keys
// or was made for other filters. An empty token yields an empty vector.
absl::StatusOr<std::vector<std::string>> DecodePageToken(const std::string& token,
                                                         const std::string& filter_tag,
                                                         size_t key_count);

// The first key of a decoded page token as an integer (0 when absent or not a number, which
// restarts the list rather than failing it).
int64_t PageKeyInt(const std::vector<std::string>& keys);

// The paging of one list call: page size, the tag of its filters, and the keyset position the
// page starts after (empty on the first page).
struct Paging {
  int size = 20;
  std::string tag;
  std::vector<std::string> after;
  // For lists ordered by (time, id): the position as microseconds and id.
  int64_t after_us() const { return PageKeyInt(after); }
  std::string after_id() const { return after.size() > 1 ? after[1] : ""; }
};

// Reads the page_size and page_token of list request `req`; the token must hold `key_count` keys
// and come from a request with the same other fields. Errors: INVALID_ARGUMENT naming the field.
template <typename Request>
absl::StatusOr<Paging> StartPaging(const Request& req, size_t key_count, int max_size = 100) {
  Paging paging;
  absl::StatusOr<int> size = PageSize(req.page_size(), max_size);
  if (!size.ok()) return size.status();
  paging.size = *size;
  Request filters = req;
  filters.clear_page_size();
  filters.clear_page_token();
  paging.tag = FilterTag(filters);
  absl::StatusOr<std::vector<std::string>> after =
      DecodePageToken(req.page_token(), paging.tag, key_count);
  if (!after.ok()) return after.status();
  paging.after = *std::move(after);
  return paging;
}

// Hands the page's rows (the query asked for size + 1) to `fill` and returns the next page token:
// empty when there is no further row, else `last_keys` of the page's last row.
std::string FillPage(const pqxx::result& rows, const Paging& paging,
                     const std::function<void(const pqxx::row&)>& fill,
                     const std::function<std::vector<std::string>(const pqxx::row&)>& last_keys);
// As above for lists ordered by (time, id): the token holds the last row's microsecond time
// (column `time_col`) and its id (column 0).
std::string FillPage(const pqxx::result& rows, const Paging& paging, int time_col,
                     const std::function<void(const pqxx::row&)>& fill);

// As FillPage for rows a store already read into `items` (the query asked for size + 1): drops
// the extra item and returns the next page token, `last_keys` of the page's last item; empty when
// there is no further item.
template <typename T, typename LastKeys>
std::string TrimPage(std::vector<T>& items, const Paging& paging, const LastKeys& last_keys) {
  if (static_cast<int>(items.size()) <= paging.size) return "";
  items.resize(paging.size);
  return EncodePageToken(paging.tag, last_keys(items.back()));
}

}  // namespace civicpoints::pg

#endif  // CIVICPOINTS_COMMON_PG_PAGING_H_
