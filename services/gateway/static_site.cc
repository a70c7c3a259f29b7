#include "services/gateway/static_site.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace civicpoints::gateway {
namespace {

constexpr size_t kMaxBytes = 64 << 20;

// The page loads scripts, styles, images and data from this origin only; charts draw on canvas.
// Inline styles are allowed because the charting library positions its tooltips with them.
constexpr char kPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

std::string ContentTypeOf(const std::string& path) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"}};
  const std::string ext = std::filesystem::path(path).extension().string();
  const auto found = kTypes.find(ext);
  return found == kTypes.end() ? "application/octet-stream" : found->second;
}

// FNV-1a: a strong-enough tag for "has this file changed", the same in every replica.
std::string EtagOf(const std::string& body) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrFormat("\"%016x-%x\"", h, body.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<StaticSite>> StaticSite::Load(const std::string& dir,
                                                             std::string prefix) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("'", dir, "' is not a directory"));
  }
  std::unique_ptr<StaticSite> site(new StaticSite());
  site->prefix_ = std::move(prefix);
  size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    File file;
    file.body = std::move(body).str();
    total += file.body.size();
    if (total > kMaxBytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("'", dir, "' holds over ", kMaxBytes >> 20, " MiB"));
    }
    const std::string path = absl::StrCat("/", fs::relative(it->path(), dir, ec).generic_string());
    file.content_type = ContentTypeOf(path);
    file.etag = EtagOf(file.body);
    site->files_.emplace(path, std::move(file));
  }
  if (ec) return absl::NotFoundError(absl::StrCat("'", dir, "' cannot be read: ", ec.message()));
  if (!site->files_.contains("/index.html")) {
    return absl::NotFoundError(absl::StrCat("'", dir, "' has no index.html"));
  }
  return site;
}

bool StaticSite::Owns(const std::string& path) const {
  // Asked of every REST request: no allocation.
  return absl::StartsWith(path, prefix_) &&
         (path.size() == prefix_.size() || path[prefix_.size()] == '/');
}

HttpResponse StaticSite::Serve(const HttpRequest& request) const {
  HttpResponse out;
  out.headers = {{"Content-Security-Policy", kPolicy},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "no-referrer"}};
  if (request.method != "GET" && request.method != "HEAD") {
    out.status = 405;
    out.headers.emplace_back("Allow", "GET, HEAD");
    out.content_type = "text/plain; charset=utf-8";
    out.body = "use GET\n";
    return out;
  }
  if (request.path == prefix_) {
    out.status = 301;
    out.headers.emplace_back("Location", prefix_ + "/");
    return out;
  }
  std::string rest = request.path.substr(prefix_.size());
  if (rest == "/") rest = "/index.html";
  const auto found = files_.find(rest);
  if (found == files_.end()) {
    out.status = 404;
    out.content_type = "text/plain; charset=utf-8";
    out.body = absl::StrCat("no file ", request.path, "\n");
    return out;
  }
  const File& file = found->second;
  // Revalidated on every load (cheap with the ETag), so a new release is seen at once.
  out.headers.emplace_back("Cache-Control", "no-cache");
  out.headers.emplace_back("ETag", file.etag);
  if (request.Header("if-none-match") == file.etag) {
    out.status = 304;
    return out;
  }
  out.status = 200;
  out.content_type = file.content_type;
  if (request.method == "GET") out.body = file.body;
  return out;
}

}  // namespace civicpoints::gateway
