#include "services/ledger/rankings.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/redis/redis_client.h"
#include "common/status/status_macros.h"

namespace civicpoints::ledger {
namespace {

constexpr char kSetPrefix[] = "cp:rank:";
constexpr char kVersionPrefix[] = "cp:rankv:";
constexpr char kRebuildMarker[] = "cp:rank:rebuilt";
constexpr char kExcludedSet[] = "cp:rank:excluded";
constexpr double kTieSlots = 1073741824.0;  // 2^30 seconds ≈ 34 years of tie-break resolution
const absl::Time kTieEpoch = absl::FromUnixSeconds(1735689600);  // 2025-01-01T00:00:00Z

// KEYS[1] sorted set, KEYS[2] version hash; ARGV holds (member, redis score, version, points)
// groups. Each member is written only if its version is newer than the stored one. Returns how
// many were written.
constexpr char kApplyScript[] = R"lua(
local written = 0
for i = 1, #ARGV, 4 do
  local member, score, version, points = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local stored = redis.call('HGET', KEYS[2], member)
  if not stored or tonumber(stored) < version then
    redis.call('HSET', KEYS[2], member, version)
    if points <= 0 then
      redis.call('ZREM', KEYS[1], member)
    else
      redis.call('ZADD', KEYS[1], score, member)
    end
    written = written + 1
  end
end
return written
)lua";

// Members per script call, and script calls per round trip.
constexpr size_t kMembersPerScript = 500;
constexpr size_t kScriptsPerPipeline = 20;

std::string FormatScore(double score) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", score);
  return buf;
}

}  // namespace

double EncodeRankingScore(int64_t points, absl::Time reached_at) {
  double late = std::floor(absl::ToDoubleSeconds(reached_at - kTieEpoch));
  late = std::clamp(late, 0.0, kTieSlots - 1);
  return static_cast<double>(points) * kTieSlots + (kTieSlots - 1 - late);
}

int64_t DecodeRankingPoints(double score) {
  return static_cast<int64_t>(std::floor(score / kTieSlots));
}

absl::StatusOr<std::string> Rankings::ApplyScriptSha() {
  {
    absl::MutexLock lock(&sha_mu_);
    if (!apply_sha_.empty()) return apply_sha_;
  }
  absl::StatusOr<redis::RedisReply> loaded = redis_->Command({"SCRIPT", "LOAD", kApplyScript});
  if (!loaded.ok()) return loaded.status();
  absl::MutexLock lock(&sha_mu_);
  apply_sha_ = loaded->str;
  return apply_sha_;
}

absl::Status Rankings::Apply(const std::vector<RankingScore>& scores) {
  if (scores.empty()) return absl::OkStatus();
  // The script goes by its SHA1 (EVALSHA); a Redis that restarted since has forgotten it
  // (NOSCRIPT), and the round trip is sent again with the script's text, which is harmless: the
  // versions make every write idempotent.
  absl::StatusOr<std::string> sha = ApplyScriptSha();
  if (!sha.ok()) return sha.status();
  std::vector<std::vector<std::string>> commands;
  auto flush = [&]() -> absl::Status {
    if (commands.empty()) return absl::OkStatus();
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<std::vector<redis::RedisReply>> replies = redis_->Pipeline(commands);
      if (!replies.ok()) return replies.status();
      bool noscript = false;
      for (const redis::RedisReply& r : *replies) {
        if (r.type != redis::RedisReply::Type::kError) continue;
        if (attempt == 0 && absl::StartsWith(r.str, "NOSCRIPT")) {
          noscript = true;
          continue;
        }
        return absl::InternalError(absl::StrCat("Redis refused a ranking write: ", r.str));
      }
      if (!noscript) break;
      {
        absl::MutexLock lock(&sha_mu_);
        apply_sha_.clear();
      }
      for (std::vector<std::string>& command : commands) {
        command[0] = "EVAL";
        command[1] = kApplyScript;
      }
    }
    commands.clear();
    return absl::OkStatus();
  };
  // One script call per run of the same ranking key (callers pass scores grouped by key).
  for (size_t i = 0; i < scores.size();) {
    const std::string& key = scores[i].ranking_key;
    std::vector<std::string> command = {"EVALSHA", *sha, "2", kSetPrefix + key,
                                        kVersionPrefix + key};
    for (size_t n = 0; i < scores.size() && scores[i].ranking_key == key && n < kMembersPerScript;
         ++i, ++n) {
      const RankingScore& s = scores[i];
      command.push_back(s.person_id);
      command.push_back(FormatScore(EncodeRankingScore(s.score, s.reached_at)));
      command.push_back(absl::StrCat(s.version));
      command.push_back(absl::StrCat(s.score));
    }
    commands.push_back(std::move(command));
    if (commands.size() >= kScriptsPerPipeline) RETURN_IF_ERROR(flush());
  }
  return flush();
}

absl::Status Rankings::Remove(const std::string& person_id,
                              const std::vector<std::string>& ranking_keys) {
  std::vector<std::vector<std::string>> commands;
  for (const std::string& key : ranking_keys) {
    commands.push_back({"ZREM", kSetPrefix + key, person_id});
  }
  if (commands.empty()) return absl::OkStatus();
  return redis_->Pipeline(commands).status();
}

absl::StatusOr<std::vector<RankedRider>> Rankings::Range(const std::string& ranking_key,
                                                         int64_t start, int64_t stop,
                                                         int64_t* total) {
  std::vector<std::vector<std::string>> commands = {{"ZRANGE", kSetPrefix + ranking_key,
                                                     absl::StrCat(start), absl::StrCat(stop), "REV",
                                                     "WITHSCORES"}};
  if (total != nullptr) commands.push_back({"ZCARD", kSetPrefix + ranking_key});
  absl::StatusOr<std::vector<redis::RedisReply>> replies = redis_->Pipeline(commands);
  if (!replies.ok()) return replies.status();
  const redis::RedisReply* reply = &(*replies)[0];
  if (reply->type == redis::RedisReply::Type::kError) {
    return absl::InternalError(absl::StrCat("Redis refused a ranking read: ", reply->str));
  }
  if (total != nullptr) *total = (*replies)[1].integer;
  std::vector<RankedRider> out;
  for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
    double score = 0;
    if (!absl::SimpleAtod(reply->elements[i + 1].str, &score)) {
      return absl::InternalError("Redis returned a non-numeric ranking score");
    }
    out.push_back({reply->elements[i].str, DecodeRankingPoints(score),
                   start + static_cast<int64_t>(i / 2) + 1});
  }
  return out;
}

absl::StatusOr<std::vector<RankedRider>> Rankings::Top(const std::string& ranking_key, int64_t n,
                                                       int64_t* total) {
  if (n <= 0) return std::vector<RankedRider>{};
  return Range(ranking_key, 0, n - 1, total);
}

absl::StatusOr<std::optional<RankedRider>> Rankings::RankOf(const std::string& ranking_key,
                                                            const std::string& person_id) {
  absl::StatusOr<std::vector<redis::RedisReply>> replies =
      redis_->Pipeline({{"ZREVRANK", kSetPrefix + ranking_key, person_id},
                        {"ZSCORE", kSetPrefix + ranking_key, person_id}});
  if (!replies.ok()) return replies.status();
  const redis::RedisReply& rank = (*replies)[0];
  const redis::RedisReply& score = (*replies)[1];
  if (rank.type != redis::RedisReply::Type::kInteger || score.is_nil()) {
    return std::optional<RankedRider>();
  }
  double value = 0;
  if (!absl::SimpleAtod(score.str, &value)) {
    return absl::InternalError("Redis returned a non-numeric ranking score");
  }
  return std::optional<RankedRider>(
      RankedRider{person_id, DecodeRankingPoints(value), rank.integer + 1});
}

absl::StatusOr<std::vector<RankedRider>> Rankings::Around(const std::string& ranking_key,
                                                          const std::string& person_id,
                                                          int64_t above, int64_t below) {
  absl::StatusOr<std::optional<RankedRider>> me = RankOf(ranking_key, person_id);
  if (!me.ok()) return me.status();
  if (!me->has_value()) return std::vector<RankedRider>{};
  const int64_t index = (*me)->rank - 1;
  return Range(ranking_key, std::max<int64_t>(0, index - above), index + below, nullptr);
}

absl::StatusOr<int64_t> Rankings::Count(const std::string& ranking_key) {
  absl::StatusOr<redis::RedisReply> reply = redis_->Command({"ZCARD", kSetPrefix + ranking_key});
  if (!reply.ok()) return reply.status();
  return reply->integer;
}

absl::Status Rankings::SetExcluded(const std::string& person_id, bool excluded) {
  return redis_->Command({excluded ? "SADD" : "SREM", kExcludedSet, person_id}).status();
}

absl::Status Rankings::ReplaceExcluded(const std::vector<std::string>& person_ids) {
  std::vector<std::vector<std::string>> commands = {{"DEL", kExcludedSet}};
  for (const std::string& p : person_ids) commands.push_back({"SADD", kExcludedSet, p});
  return redis_->Pipeline(commands).status();
}

absl::StatusOr<bool> Rankings::IsExcluded(const std::string& person_id) {
  absl::StatusOr<redis::RedisReply> reply = redis_->Command({"SISMEMBER", kExcludedSet, person_id});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

absl::StatusOr<bool> Rankings::HasRebuildMarker() {
  absl::StatusOr<redis::RedisReply> reply = redis_->Command({"EXISTS", kRebuildMarker});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

absl::Status Rankings::SetRebuildMarker() {
  return redis_->Command({"SET", kRebuildMarker, "1"}).status();
}

}  // namespace civicpoints::ledger
