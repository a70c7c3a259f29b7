#include "services/ledger/ranking_projection.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/redis/redis_client.h"
#include "common/redis/redis_script.h"
#include "common/status/status_macros.h"

namespace civicpoints::ledger {
namespace {

using redis::RedisReply;
using redis::RedisScript;

constexpr char kWatermark[] = "cp:rk:wm";
constexpr char kExcluded[] = "cp:rk:excluded";
constexpr char kFilledSeasons[] = "cp:rk:seasons";
constexpr char kLease[] = "cp:rk:lease";

// The three keys of a ranking, under one hash tag.
std::string Sorted(const std::string& ranking) { return absl::StrCat("cp:rk:{", ranking, "}:z"); }
std::string Sums(const std::string& ranking) { return absl::StrCat("cp:rk:{", ranking, "}:p"); }
std::string Applied(const std::string& ranking) { return absl::StrCat("cp:rk:{", ranking, "}:w"); }

// KEYS: sorted set, sums, watermark. ARGV: through, then (member, delta, sequence, micros) groups
// in journal order. A member's sum entry is "<sum>:<reaching sequence>:<reaching micros>".
RedisScript& ApplyScript() {
  static RedisScript* const script = new RedisScript(R"lua(
local wm = tonumber(redis.call('GET', KEYS[3]) or '0')
local slots = 1073741824
local applied = 0
for i = 2, #ARGV, 4 do
  local seq = tonumber(ARGV[i + 2])
  if seq > wm then
    local member, delta = ARGV[i], tonumber(ARGV[i + 1])
    local sum, reached, micros = 0, 0, '0'
    local stored = redis.call('HGET', KEYS[2], member)
    if stored then
      local a, b, c = string.match(stored, '^(-?%d+):(%d+):(-?%d+)$')
      sum, reached, micros = tonumber(a), tonumber(b), c
    end
    sum = sum + delta
    if delta > 0 then reached, micros = seq, ARGV[i + 3] end
    redis.call('HSET', KEYS[2], member, string.format('%d:%d:%s', sum, reached, micros))
    if sum > 0 then
      redis.call('ZADD', KEYS[1], sum * slots + (slots - 1 - math.min(reached, slots - 1)), member)
    else
      redis.call('ZREM', KEYS[1], member)
    end
    applied = applied + 1
  end
end
if tonumber(ARGV[1]) > wm then redis.call('SET', KEYS[3], ARGV[1]) end
return applied
)lua");
  return *script;
}

// KEYS: sorted set, sums. ARGV: start, count, then the excluded riders. Returns {ranked riders,
// {member, sum entry, ...}} for the places start .. start+count-1 among riders not excluded.
RedisScript& RangeScript() {
  static RedisScript* const script = new RedisScript(R"lua(
local start, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local skip, ranks = {}, {}
for i = 3, #ARGV do
  local r = redis.call('ZREVRANK', KEYS[1], ARGV[i])
  if r then
    skip[ARGV[i]] = true
    ranks[#ranks + 1] = r
  end
end
table.sort(ranks)
local raw = start
for _, r in ipairs(ranks) do
  if r <= raw then raw = raw + 1 else break end
end
local out = {}
if count > 0 then
  local members = redis.call('ZREVRANGE', KEYS[1], raw, raw + count + #ranks - 1)
  for _, m in ipairs(members) do
    if not skip[m] and #out < 2 * count then
      out[#out + 1] = m
      out[#out + 1] = redis.call('HGET', KEYS[2], m) or ''
    end
  end
end
return {redis.call('ZCARD', KEYS[1]) - #ranks, out}
)lua");
  return *script;
}

// KEYS: sorted set, sums. ARGV: the rider, then the excluded riders. Returns {0-based place among
// riders not excluded, sum entry}, or nil.
RedisScript& PlaceScript() {
  static RedisScript* const script = new RedisScript(R"lua(
for i = 2, #ARGV do
  if ARGV[i] == ARGV[1] then return false end
end
local r = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not r then return false end
local above = 0
for i = 2, #ARGV do
  local er = redis.call('ZREVRANK', KEYS[1], ARGV[i])
  if er and er < r then above = above + 1 end
end
return {r - above, redis.call('HGET', KEYS[2], ARGV[1]) or ''}
)lua");
  return *script;
}

// KEYS: the global watermark. ARGV: a sequence; '1' when only an existing watermark may rise.
// The watermark only rises.
RedisScript& RaiseScript() {
  static RedisScript* const script = new RedisScript(R"lua(
local stored = redis.call('GET', KEYS[1])
if not stored and ARGV[2] == '1' then return 0 end
local current = tonumber(stored or '-1')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
)lua");
  return *script;
}

// KEYS: the lease. ARGV: the holder, the ttl in ms. 1 when the holder has the lease.
RedisScript& HoldScript() {
  static RedisScript* const script = new RedisScript(R"lua(
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
)lua");
  return *script;
}

// KEYS: the lease. ARGV: the holder.
RedisScript& ReleaseScript() {
  static RedisScript* const script = new RedisScript(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
)lua");
  return *script;
}

absl::Status CheckReplies(const std::vector<RedisReply>& replies, const char* what) {
  for (const RedisReply& r : replies) {
    if (r.type == RedisReply::Type::kError) {
      return absl::InternalError(absl::StrCat("Redis refused ", what, ": ", r.str));
    }
  }
  return absl::OkStatus();
}

// A place from a member and its sum entry "<sum>:<sequence>:<micros>".
absl::StatusOr<RankingPlace> ToPlace(const std::string& member, const std::string& entry,
                                     int64_t rank) {
  std::vector<std::string> parts = absl::StrSplit(entry, ':');
  RankingPlace place{.person_id = member, .rank = rank};
  int64_t micros = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &place.points) ||
      !absl::SimpleAtoi(parts[1], &place.reach_sequence) || !absl::SimpleAtoi(parts[2], &micros)) {
    return absl::InternalError(
        absl::StrCat("Redis holds a malformed ranking entry for ", member, ": '", entry, "'"));
  }
  place.reach_time = absl::FromUnixMicros(micros);
  return place;
}

// Changes per script call, and script calls per round trip.
constexpr size_t kChangesPerCall = 500;
constexpr size_t kCallsPerRoundTrip = 20;

}  // namespace

absl::StatusOr<int64_t> RankingProjection::Apply(
    const std::map<std::string, std::vector<RankingChange>>& changes, int64_t through) {
  std::vector<RedisScript::Call> calls;
  int64_t applied = 0;
  auto flush = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies, ApplyScript().Run(redis_, calls));
    calls.clear();
    RETURN_IF_ERROR(CheckReplies(replies, "a ranking change"));
    for (const RedisReply& r : replies) applied += r.integer;
    return absl::OkStatus();
  };
  for (const auto& [ranking, list] : changes) {
    for (size_t i = 0; i < list.size(); i += kChangesPerCall) {
      const size_t end = std::min(list.size(), i + kChangesPerCall);
      // A call that does not carry the ranking's last change raises its watermark only as far as
      // its own last change, so the next call's changes still count.
      const int64_t upto = end == list.size() ? through : list[end - 1].sequence;
      RedisScript::Call call{.keys = {Sorted(ranking), Sums(ranking), Applied(ranking)},
                             .args = {absl::StrCat(upto)}};
      call.args.reserve(1 + 4 * (end - i));
      for (size_t k = i; k < end; ++k) {
        const RankingChange& c = list[k];
        call.args.push_back(c.person_id);
        call.args.push_back(absl::StrCat(c.delta));
        call.args.push_back(absl::StrCat(c.sequence));
        call.args.push_back(absl::StrCat(absl::ToUnixMicros(c.time)));
      }
      calls.push_back(std::move(call));
      if (calls.size() >= kCallsPerRoundTrip) RETURN_IF_ERROR(flush());
    }
  }
  if (!calls.empty()) RETURN_IF_ERROR(flush());
  return applied;
}

absl::Status RankingProjection::WriteTotals(
    const std::map<std::string, std::vector<RankingTotal>>& totals, int64_t through) {
  constexpr size_t kMembersPerCommand = 1000;
  constexpr size_t kCommandsPerRoundTrip = 16;
  constexpr int64_t kSlots = int64_t{1} << 30;  // as ApplyScript scores them
  std::vector<std::vector<std::string>> pipeline;
  auto flush = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis_->Pipeline(pipeline));
    pipeline.clear();
    return CheckReplies(replies, "a ranking total");
  };
  for (const auto& [ranking, list] : totals) {
    for (size_t i = 0; i < list.size(); i += kMembersPerCommand) {
      const size_t end = std::min(list.size(), i + kMembersPerCommand);
      std::vector<std::string> zadd = {"ZADD", Sorted(ranking)};
      std::vector<std::string> hset = {"HSET", Sums(ranking)};
      for (size_t k = i; k < end; ++k) {
        const RankingTotal& t = list[k];
        hset.push_back(t.person_id);
        hset.push_back(
            absl::StrCat(t.sum, ":", t.reach_sequence, ":", absl::ToUnixMicros(t.reach_time)));
        if (t.sum <= 0) continue;
        zadd.push_back(
            absl::StrCat(t.sum * kSlots + (kSlots - 1 - std::min(t.reach_sequence, kSlots - 1))));
        zadd.push_back(t.person_id);
      }
      if (zadd.size() > 2) pipeline.push_back(std::move(zadd));
      pipeline.push_back(std::move(hset));
      if (pipeline.size() >= kCommandsPerRoundTrip) RETURN_IF_ERROR(flush());
    }
    pipeline.push_back({"SET", Applied(ranking), absl::StrCat(through)});
  }
  if (!pipeline.empty()) RETURN_IF_ERROR(flush());
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> RankingProjection::Watermark() {
  ASSIGN_OR_RETURN(RedisReply r, redis_->Command({"GET", kWatermark}));
  if (r.is_nil()) return std::optional<int64_t>();
  int64_t sequence = 0;
  if (!absl::SimpleAtoi(r.str, &sequence)) {
    return absl::InternalError(absl::StrCat("Redis holds a malformed watermark '", r.str, "'"));
  }
  return std::optional<int64_t>(sequence);
}

absl::Status RankingProjection::RaiseWatermark(int64_t sequence, bool only_if_present) {
  ASSIGN_OR_RETURN(
      std::vector<RedisReply> replies,
      RaiseScript().Run(redis_, {{.keys = {kWatermark},
                                  .args = {absl::StrCat(sequence), only_if_present ? "1" : "0"}}}));
  return CheckReplies(replies, "the watermark");
}

absl::StatusOr<std::vector<RankingPlace>> RankingProjection::Range(const std::string& ranking_key,
                                                                   int64_t start, int64_t count,
                                                                   int64_t* total) {
  ASSIGN_OR_RETURN(std::vector<std::string> excluded, Excluded());
  RedisScript::Call call{.keys = {Sorted(ranking_key), Sums(ranking_key)},
                         .args = {absl::StrCat(std::max<int64_t>(start, 0)),
                                  absl::StrCat(std::max<int64_t>(count, 0))}};
  call.args.insert(call.args.end(), excluded.begin(), excluded.end());
  ASSIGN_OR_RETURN(std::vector<RedisReply> replies, RangeScript().Run(redis_, {call}));
  RETURN_IF_ERROR(CheckReplies(replies, "a ranking read"));
  const RedisReply& reply = replies[0];
  if (reply.elements.size() != 2) return absl::InternalError("malformed ranking read reply");
  if (total != nullptr) *total = reply.elements[0].integer;
  std::vector<RankingPlace> out;
  const std::vector<RedisReply>& members = reply.elements[1].elements;
  for (size_t i = 0; i + 1 < members.size(); i += 2) {
    ASSIGN_OR_RETURN(RankingPlace place,
                     ToPlace(members[i].str, members[i + 1].str,
                             std::max<int64_t>(start, 0) + static_cast<int64_t>(i / 2) + 1));
    out.push_back(std::move(place));
  }
  return out;
}

absl::StatusOr<std::optional<RankingPlace>> RankingProjection::PlaceOf(
    const std::string& ranking_key, const std::string& person_id) {
  ASSIGN_OR_RETURN(std::vector<std::string> excluded, Excluded());
  RedisScript::Call call{.keys = {Sorted(ranking_key), Sums(ranking_key)}, .args = {person_id}};
  call.args.insert(call.args.end(), excluded.begin(), excluded.end());
  ASSIGN_OR_RETURN(std::vector<RedisReply> replies, PlaceScript().Run(redis_, {call}));
  RETURN_IF_ERROR(CheckReplies(replies, "a ranking read"));
  const RedisReply& reply = replies[0];
  if (reply.is_nil()) return std::optional<RankingPlace>();
  if (reply.elements.size() != 2) return absl::InternalError("malformed ranking place reply");
  ASSIGN_OR_RETURN(RankingPlace place,
                   ToPlace(person_id, reply.elements[1].str, reply.elements[0].integer + 1));
  return std::optional<RankingPlace>(std::move(place));
}

absl::StatusOr<std::vector<RankingPlace>> RankingProjection::Around(const std::string& ranking_key,
                                                                    const std::string& person_id,
                                                                    int64_t above, int64_t below) {
  ASSIGN_OR_RETURN(std::optional<RankingPlace> me, PlaceOf(ranking_key, person_id));
  if (!me.has_value()) return std::vector<RankingPlace>{};
  const int64_t first = std::max<int64_t>(0, me->rank - 1 - above);
  return Range(ranking_key, first, me->rank - first + below);
}

absl::StatusOr<int64_t> RankingProjection::Count(const std::string& ranking_key) {
  int64_t total = 0;
  RETURN_IF_ERROR(Range(ranking_key, 0, 0, &total).status());
  return total;
}

absl::StatusOr<int64_t> RankingProjection::Clear() {
  ASSIGN_OR_RETURN(const int64_t rankings, ClearMatching([](const std::string&) { return true; }));
  RETURN_IF_ERROR(redis_->Command({"DEL", kWatermark, kFilledSeasons}).status());
  return rankings;
}

absl::StatusOr<int64_t> RankingProjection::ClearMatching(
    const std::function<bool(const std::string&)>& matching) {
  int64_t rankings = 0;
  std::string cursor = "0";
  do {
    ASSIGN_OR_RETURN(RedisReply page,
                     redis_->Command({"SCAN", cursor, "MATCH", "cp:rk:{*", "COUNT", "1000"}));
    if (page.elements.size() != 2) return absl::InternalError("malformed SCAN reply");
    cursor = page.elements[0].str;
    std::vector<std::string> del = {"UNLINK"};
    for (const RedisReply& key : page.elements[1].elements) {
      // "cp:rk:{<ranking>}:z" and its ":p" and ":w".
      const size_t open = key.str.find('{');
      const size_t close = key.str.rfind("}:");
      if (open == std::string::npos || close == std::string::npos || close < open) continue;
      if (!matching(key.str.substr(open + 1, close - open - 1))) continue;
      if (absl::EndsWith(key.str, ":z")) ++rankings;
      del.push_back(key.str);
    }
    if (del.size() > 1) RETURN_IF_ERROR(redis_->Command(del).status());
  } while (cursor != "0");
  return rankings;
}

absl::StatusOr<bool> RankingProjection::HoldLease(const std::string& holder, absl::Duration ttl) {
  ASSIGN_OR_RETURN(
      std::vector<RedisReply> replies,
      HoldScript().Run(redis_, {{.keys = {kLease},
                                 .args = {holder, absl::StrCat(std::max<int64_t>(
                                                      1, absl::ToInt64Milliseconds(ttl)))}}}));
  RETURN_IF_ERROR(CheckReplies(replies, "the projection's lease"));
  return replies[0].integer == 1;
}

absl::Status RankingProjection::ReleaseLease(const std::string& holder) {
  ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                   ReleaseScript().Run(redis_, {{.keys = {kLease}, .args = {holder}}}));
  return CheckReplies(replies, "the projection's lease");
}

absl::StatusOr<std::vector<std::string>> RankingProjection::FilledSeasons() {
  ASSIGN_OR_RETURN(RedisReply r, redis_->Command({"SMEMBERS", kFilledSeasons}));
  std::vector<std::string> out;
  for (const RedisReply& e : r.elements) out.push_back(e.str);
  return out;
}

absl::Status RankingProjection::MarkSeasonFilled(const std::string& season_id) {
  return redis_->Command({"SADD", kFilledSeasons, season_id}).status();
}

absl::Status RankingProjection::SetExcluded(const std::string& person_id, bool excluded) {
  absl::Status written =
      redis_->Command({excluded ? "SADD" : "SREM", kExcluded, person_id}).status();
  ForgetExcluded();
  return written;
}

absl::Status RankingProjection::ReplaceExcluded(const std::vector<std::string>& person_ids) {
  // One MULTI block, so a reader sees the old set or the new one.
  std::vector<std::vector<std::string>> commands = {{"MULTI"}, {"DEL", kExcluded}};
  if (!person_ids.empty()) {
    std::vector<std::string> add = {"SADD", kExcluded};
    add.insert(add.end(), person_ids.begin(), person_ids.end());
    commands.push_back(std::move(add));
  }
  commands.push_back({"EXEC"});
  absl::StatusOr<std::vector<RedisReply>> replies = redis_->Pipeline(commands);
  ForgetExcluded();
  if (!replies.ok()) return replies.status();
  return CheckReplies(*replies, "the exclusion list");
}

absl::StatusOr<std::vector<std::string>> RankingProjection::Excluded() {
  constexpr absl::Duration kKeep = absl::Seconds(1);
  int64_t version = 0;
  {
    absl::MutexLock lock(&excluded_mu_);
    if (absl::Now() < excluded_read_at_ + kKeep) return excluded_;
    version = excluded_version_;
  }
  const absl::Time asked = absl::Now();
  ASSIGN_OR_RETURN(RedisReply r, redis_->Command({"SMEMBERS", kExcluded}));
  std::vector<std::string> out;
  for (const RedisReply& e : r.elements) out.push_back(e.str);
  absl::MutexLock lock(&excluded_mu_);
  if (version == excluded_version_) {  // no write of this object's went past the read
    excluded_ = out;
    excluded_read_at_ = asked;
  }
  return out;
}

void RankingProjection::ForgetExcluded() {
  absl::MutexLock lock(&excluded_mu_);
  ++excluded_version_;
  excluded_read_at_ = absl::InfinitePast();
}

}  // namespace civicpoints::ledger
