// StaticSite: the files of a web page the gateway serves beside its REST face, same origin (the
// district dashboard at /dashboard/). Every file under a directory is read into memory at start
// (so a request never touches the file system and no path can climb out of it), with its content
// type and an ETag; answers carry a Content-Security-Policy that lets the page load only from this
// origin.
#ifndef CIVICPOINTS_SERVICES_GATEWAY_STATIC_SITE_H_
#define CIVICPOINTS_SERVICES_GATEWAY_STATIC_SITE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/gateway/http_server.h"

namespace civicpoints::gateway {

class StaticSite {
 public:
  // Reads every regular file under `dir` (at most 64 MiB in all), to be served under `prefix`
  // ("/dashboard"). Errors: NOT_FOUND when `dir` is missing or has no index.html;
  // RESOURCE_EXHAUSTED beyond the size limit.
  static absl::StatusOr<std::unique_ptr<StaticSite>> Load(const std::string& dir,
                                                          std::string prefix);

  // Whether `path` is the site's ("/dashboard" or under "/dashboard/").
  bool Owns(const std::string& path) const;

  // The answer to a request for one of the site's paths: the file (200, or 304 when If-None-Match
  // names its ETag), a redirect from the bare prefix to prefix + "/", 404, or 405 for a verb other
  // than GET and HEAD.
  HttpResponse Serve(const HttpRequest& request) const;

  size_t file_count() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string etag;
    std::string body;
  };
  StaticSite() = default;
  std::string prefix_;
  std::map<std::string, File> files_;  // by path below the prefix: "/index.html"
};

}  // namespace civicpoints::gateway

#endif  // CIVICPOINTS_SERVICES_GATEWAY_STATIC_SITE_H_
