// Dashboard statistics: place coverage per street.
#include <pqxx/pqxx>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/pg/sql_values.h"
#include "services/activity/activity_service.h"
#include "services/activity/directory.h"

namespace civicpoints::activity {

using common::v1::ROLE_CITY_SYSTEM;
using common::v1::ROLE_DISTRICT_ADMIN;
using common::v1::ROLE_ORG_VIEWER;
using common::v1::ROLE_STREET_STAFF;

namespace {

constexpr int kMaxUncovered = 200;

// What is counted per street before the rows are built.
struct StreetFigures {
  OrgInfo street;
  std::vector<std::string> communities;  // active, from identity
  int64_t stations = 0, corners = 0;
  std::set<std::string> covered;  // communities with a station or love corner
  std::map<int, int64_t> services;
};

// What is counted per community, for include_communities.
struct CommunityFigures {
  int64_t stations = 0, corners = 0;
  std::map<int, int64_t> services;
};

void AddServices(const std::map<int, int64_t>& services, v1::PlaceCoverage* row) {
  for (const auto& [service, places] : services) {
    v1::PlaceServiceCoverage* s = row->add_services();
    s->set_service(static_cast<v1::PlaceServiceType>(service));
    s->set_places(places);
  }
  row->set_service_types_offered(static_cast<int64_t>(services.size()));
}

}  // namespace

grpc::Status ActivityServiceImpl::GetPlaceCoverageStats(grpc::ServerContext* ctx,
                                                        const v1::GetPlaceCoverageStatsRequest* req,
                                                        v1::GetPlaceCoverageStatsResponse* resp) {
  return Handle(ctx, "GetPlaceCoverageStats", [&](const Caller& caller) -> absl::Status {
    OrgInfo node;
    node.org_id = "root";
    node.level = common::v1::ORG_LEVEL_CITY;
    if (!req->org_id().empty() && req->org_id() != "root") {
      absl::StatusOr<OrgInfo> org = directory_->Org(req->org_id(), "org_id");
      if (!org.ok()) return org.status();
      if (org->level == common::v1::ORG_LEVEL_COMMUNITY) {
        return absl::InvalidArgumentError(absl::StrCat(
            "org_id: '", org->org_id, "' is a community; coverage is per street (ask its street)"));
      }
      node = *std::move(org);
    }
    if (node.level == common::v1::ORG_LEVEL_CITY) {
      // The whole city: only a city system whose account is city-wide
      // (and the suite's own services: the insights overview of the city root).
      if (!caller.is_internal() &&
          (!caller.is_city_system() || !Covers(caller.who(), node.path, {ROLE_CITY_SYSTEM}))) {
        return Refuse(absl::StatusCode::kPermissionDenied,
                      v1::ACTIVITY_ERROR_REASON_OUTSIDE_ORG_SCOPE,
                      "org_id: the whole city is for city-wide city systems; name a district or "
                      "street");
      }
    } else if (absl::Status s = CheckCovers(
                   caller.who(), node.path, absl::StrCat("org node ", node.org_id),
                   {ROLE_STREET_STAFF, ROLE_DISTRICT_ADMIN, ROLE_CITY_SYSTEM, ROLE_ORG_VIEWER});
               !s.ok()) {
      return s;
    }

    // The streets of the node and their active communities, from identity.
    std::vector<OrgInfo> streets;
    if (node.level == common::v1::ORG_LEVEL_STREET) {
      streets.push_back(node);
    } else {
      std::vector<OrgInfo> districts;
      if (node.level == common::v1::ORG_LEVEL_DISTRICT) {
        districts.push_back(node);
      } else {
        absl::StatusOr<std::vector<OrgInfo>> d = directory_->Children("root");
        if (!d.ok()) return d.status();
        districts = *std::move(d);
      }
      for (const OrgInfo& district : districts) {
        absl::StatusOr<std::vector<OrgInfo>> s = directory_->Children(district.org_id);
        if (!s.ok()) return s.status();
        for (OrgInfo& street : *s) {
          if (street.level == common::v1::ORG_LEVEL_STREET) streets.push_back(std::move(street));
        }
      }
    }
    std::sort(streets.begin(), streets.end(),
              [](const OrgInfo& a, const OrgInfo& b) { return a.org_id < b.org_id; });
    std::vector<StreetFigures> figures;
    std::map<std::string, size_t> index;
    std::vector<std::string> street_ids;
    for (const OrgInfo& street : streets) {
      StreetFigures f;
      f.street = street;
      if (f.street.path.street_id().empty()) f.street.path.set_street_id(street.org_id);
      absl::StatusOr<std::vector<OrgInfo>> c = directory_->Children(street.org_id);
      if (!c.ok()) return c.status();
      for (const OrgInfo& community : *c) {
        if (community.level == common::v1::ORG_LEVEL_COMMUNITY) {
          f.communities.push_back(community.org_id);
        }
      }
      index[street.org_id] = figures.size();
      street_ids.push_back(street.org_id);
      figures.push_back(std::move(f));
    }

    return InReadTx("place coverage", [&](pqxx::transaction_base& tx) -> absl::Status {
      const std::string ids = pg::TextArray(street_ids);
      // Rider stations and love corners only: venues are not coverage.
      pqxx::result kinds = tx.exec_params(
          "SELECT street_id, community_id, kind, count(*) FROM places WHERE retired_at IS NULL "
          "AND kind IN (place_kind('RIDER_STATION'), place_kind('LOVE_CORNER')) AND street_id = "
          "ANY($1::text[]) GROUP BY 1, 2, 3",
          ids);
      std::map<std::string, CommunityFigures> by_community;
      for (const pqxx::row& row : kinds) {
        StreetFigures& f = figures[index.at(row[0].as<std::string>())];
        const int64_t n = row[3].as<int64_t>();
        const bool station = row[2].as<int>() == v1::PLACE_KIND_RIDER_STATION;
        (station ? f.stations : f.corners) += n;
        CommunityFigures& c = by_community[row[1].as<std::string>()];
        (station ? c.stations : c.corners) += n;
        if (n > 0) f.covered.insert(row[1].as<std::string>());
      }
      pqxx::result services = tx.exec_params(
          "SELECT street_id, community_id, s, count(*) FROM places, unnest(services) AS s "
          "WHERE retired_at IS NULL AND kind IN (place_kind('RIDER_STATION'), "
          "place_kind('LOVE_CORNER')) "
          "AND street_id = ANY($1::text[]) "
          "GROUP BY 1, 2, 3",
          ids);
      for (const pqxx::row& row : services) {
        const int service = row[2].as<int>();
        const int64_t n = row[3].as<int64_t>();
        figures[index.at(row[0].as<std::string>())].services[service] += n;
        by_community[row[1].as<std::string>()].services[service] += n;
      }

      v1::PlaceCoverage* total = resp->mutable_total();
      total->mutable_scope()->set_level(node.level);
      if (node.level != common::v1::ORG_LEVEL_CITY) {
        total->mutable_scope()->set_org_id(node.org_id);
        *total->mutable_org_path() = node.path;
      }
      std::map<int, int64_t> all_services;
      for (const StreetFigures& f : figures) {
        v1::PlaceCoverage* row = resp->add_streets();
        row->mutable_scope()->set_level(common::v1::ORG_LEVEL_STREET);
        row->mutable_scope()->set_org_id(f.street.org_id);
        *row->mutable_org_path() = f.street.path;
        row->mutable_org_path()->clear_community_id();
        row->set_rider_stations(f.stations);
        row->set_love_corners(f.corners);
        AddServices(f.services, row);
        int64_t covered = 0;
        for (const std::string& c : f.communities) {
          if (f.covered.count(c)) {
            ++covered;
          } else {
            if (row->uncovered_community_ids_size() < kMaxUncovered) {
              row->add_uncovered_community_ids(c);
            }
            if (total->uncovered_community_ids_size() < kMaxUncovered) {
              total->add_uncovered_community_ids(c);
            }
          }
        }
        row->set_communities_covered(covered);
        row->set_communities_total(static_cast<int64_t>(f.communities.size()));
        total->set_rider_stations(total->rider_stations() + f.stations);
        total->set_love_corners(total->love_corners() + f.corners);
        total->set_communities_covered(total->communities_covered() + covered);
        total->set_communities_total(total->communities_total() +
                                     static_cast<int64_t>(f.communities.size()));
        for (const auto& [service, places] : f.services) all_services[service] += places;
      }
      AddServices(all_services, total);
      if (req->include_communities()) {
        std::vector<std::pair<std::string, const OrgInfo*>> communities;
        for (const StreetFigures& f : figures) {
          for (const std::string& c : f.communities) communities.emplace_back(c, &f.street);
        }
        std::sort(communities.begin(), communities.end());
        for (const auto& [community, street] : communities) {
          v1::PlaceCoverage* row = resp->add_communities();
          row->mutable_scope()->set_level(common::v1::ORG_LEVEL_COMMUNITY);
          row->mutable_scope()->set_org_id(community);
          *row->mutable_org_path() = street->path;
          row->mutable_org_path()->set_community_id(community);
          const auto found = by_community.find(community);
          if (found != by_community.end()) {
            row->set_rider_stations(found->second.stations);
            row->set_love_corners(found->second.corners);
            AddServices(found->second.services, row);
          }
          const bool covered = row->rider_stations() + row->love_corners() > 0;
          row->set_communities_covered(covered ? 1 : 0);
          row->set_communities_total(1);
        }
      }
      return absl::OkStatus();
    });
  });
}

}  // namespace civicpoints::activity
