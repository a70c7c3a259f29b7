#include "common/redis/redis_script.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace civicpoints::redis {
namespace {

std::vector<std::string> Command(const std::string& verb, const std::string& script,
                                 const RedisScript::Call& call) {
  std::vector<std::string> command = {verb, script, absl::StrCat(call.keys.size())};
  command.insert(command.end(), call.keys.begin(), call.keys.end());
  command.insert(command.end(), call.args.begin(), call.args.end());
  return command;
}

}  // namespace

absl::StatusOr<std::string> RedisScript::Sha(RedisClient* redis) {
  {
    absl::MutexLock lock(&mu_);
    if (!sha_.empty()) return sha_;
  }
  absl::StatusOr<RedisReply> loaded = redis->Command({"SCRIPT", "LOAD", text_});
  if (!loaded.ok()) return loaded.status();
  absl::MutexLock lock(&mu_);
  sha_ = loaded->str;
  return sha_;
}

absl::StatusOr<std::vector<RedisReply>> RedisScript::Run(RedisClient* redis,
                                                         const std::vector<Call>& calls) {
  if (calls.empty()) return std::vector<RedisReply>{};
  absl::StatusOr<std::string> sha = Sha(redis);
  if (!sha.ok()) return sha.status();
  std::vector<std::vector<std::string>> commands;
  commands.reserve(calls.size());
  for (const Call& call : calls) commands.push_back(Command("EVALSHA", *sha, call));
  absl::StatusOr<std::vector<RedisReply>> replies = redis->Pipeline(commands);
  if (!replies.ok()) return replies.status();
  std::vector<size_t> forgotten;
  for (size_t i = 0; i < replies->size(); ++i) {
    const RedisReply& r = (*replies)[i];
    if (r.type == RedisReply::Type::kError && absl::StartsWith(r.str, "NOSCRIPT")) {
      forgotten.push_back(i);
    }
  }
  if (forgotten.empty()) return replies;
  {
    absl::MutexLock lock(&mu_);
    sha_.clear();
  }
  commands.clear();
  for (size_t i : forgotten) commands.push_back(Command("EVAL", text_, calls[i]));
  absl::StatusOr<std::vector<RedisReply>> again = redis->Pipeline(commands);
  if (!again.ok()) return again.status();
  for (size_t k = 0; k < forgotten.size(); ++k) (*replies)[forgotten[k]] = std::move((*again)[k]);
  return replies;
}

}  // namespace civicpoints::redis
