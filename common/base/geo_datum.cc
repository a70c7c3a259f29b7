#include "common/base/geo_datum.h"

#include <algorithm>
#include <cmath>

namespace civicpoints::geo {
namespace {

// The Krasovsky 1940 ellipsoid the GCJ-02 transform is stated on.
constexpr double kAxis = 6378245.0;
constexpr double kEccentricitySquared = 0.00669342162296594323;
constexpr double kBdFactor = M_PI * 3000.0 / 180.0;

double OffsetLat(double x, double y) {
  double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * std::sqrt(std::abs(x));
  r += (20.0 * std::sin(6.0 * x * M_PI) + 20.0 * std::sin(2.0 * x * M_PI)) * 2.0 / 3.0;
  r += (20.0 * std::sin(y * M_PI) + 40.0 * std::sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
  r += (160.0 * std::sin(y / 12.0 * M_PI) + 320.0 * std::sin(y * M_PI / 30.0)) * 2.0 / 3.0;
  return r;
}

double OffsetLon(double x, double y) {
  double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * std::sqrt(std::abs(x));
  r += (20.0 * std::sin(6.0 * x * M_PI) + 20.0 * std::sin(2.0 * x * M_PI)) * 2.0 / 3.0;
  r += (20.0 * std::sin(x * M_PI) + 40.0 * std::sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
  r += (150.0 * std::sin(x / 12.0 * M_PI) + 300.0 * std::sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
  return r;
}

}  // namespace

bool InChina(LatLon p) {
  return p.lon >= 72.004 && p.lon <= 137.8347 && p.lat >= 0.8293 && p.lat <= 55.8271;
}

LatLon Wgs84ToGcj02(LatLon wgs) {
  if (!InChina(wgs)) return wgs;
  double d_lat = OffsetLat(wgs.lon - 105.0, wgs.lat - 35.0);
  double d_lon = OffsetLon(wgs.lon - 105.0, wgs.lat - 35.0);
  const double rad_lat = wgs.lat / 180.0 * M_PI;
  double magic = std::sin(rad_lat);
  magic = 1 - kEccentricitySquared * magic * magic;
  const double sqrt_magic = std::sqrt(magic);
  d_lat = (d_lat * 180.0) / ((kAxis * (1 - kEccentricitySquared)) / (magic * sqrt_magic) * M_PI);
  d_lon = (d_lon * 180.0) / (kAxis / sqrt_magic * std::cos(rad_lat) * M_PI);
  return {wgs.lat + d_lat, wgs.lon + d_lon};
}

LatLon Gcj02ToWgs84(LatLon gcj) {
  if (!InChina(gcj)) return gcj;
  // The offset changes slowly with position: step the guess by the error of its forward image.
  LatLon wgs = gcj;
  for (int i = 0; i < 20; ++i) {
    const LatLon image = Wgs84ToGcj02(wgs);
    const double e_lat = image.lat - gcj.lat, e_lon = image.lon - gcj.lon;
    wgs.lat -= e_lat;
    wgs.lon -= e_lon;
    if (std::abs(e_lat) < 1e-10 && std::abs(e_lon) < 1e-10) break;
  }
  return wgs;
}

LatLon Gcj02ToBd09(LatLon gcj) {
  const double x = gcj.lon, y = gcj.lat;
  const double z = std::sqrt(x * x + y * y) + 0.00002 * std::sin(y * kBdFactor);
  const double theta = std::atan2(y, x) + 0.000003 * std::cos(x * kBdFactor);
  return {z * std::sin(theta) + 0.006, z * std::cos(theta) + 0.0065};
}

LatLon Bd09ToGcj02(LatLon bd) {
  // The published inverse is good to about 0.1 m; a few steps on its error make it exact.
  const double x = bd.lon - 0.0065, y = bd.lat - 0.006;
  const double z = std::sqrt(x * x + y * y) - 0.00002 * std::sin(y * kBdFactor);
  const double theta = std::atan2(y, x) - 0.000003 * std::cos(x * kBdFactor);
  LatLon gcj{z * std::sin(theta), z * std::cos(theta)};
  for (int i = 0; i < 10; ++i) {
    const LatLon image = Gcj02ToBd09(gcj);
    const double e_lat = image.lat - bd.lat, e_lon = image.lon - bd.lon;
    gcj.lat -= e_lat;
    gcj.lon -= e_lon;
    if (std::abs(e_lat) < 1e-10 && std::abs(e_lon) < 1e-10) break;
  }
  return gcj;
}

LatLon ToWgs84(LatLon p, Datum datum) {
  switch (datum) {
    case Datum::kGcj02:
      return Gcj02ToWgs84(p);
    case Datum::kBd09:
      return Gcj02ToWgs84(Bd09ToGcj02(p));
    case Datum::kWgs84:
      break;
  }
  return p;
}

double DistanceMeters(LatLon a, LatLon b) {
  constexpr double kEarthRadius = 6371008.8;
  constexpr double kRad = M_PI / 180;
  const double dlat = (b.lat - a.lat) * kRad, dlon = (b.lon - a.lon) * kRad;
  const double h =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(a.lat * kRad) * std::cos(b.lat * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadius * std::asin(std::min(1.0, std::sqrt(h)));
}

}  // namespace civicpoints::geo
