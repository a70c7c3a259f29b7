// Coordinates in the datums phones in China report: WGS-84 (GPS), GCJ-02 (the national datum that
// Amap and Tencent maps use, offset from WGS-84 by a few hundred metres inside China) and BD-09
// (Baidu's, a further shift of GCJ-02). Every distance and geofence check works in WGS-84, so a
// point is converted on arrival. GCJ-02 is defined only inside China: outside it, it equals
// WGS-84, as the published conversion does.
#ifndef CIVICPOINTS_COMMON_BASE_GEO_DATUM_H_
#define CIVICPOINTS_COMMON_BASE_GEO_DATUM_H_

namespace civicpoints::geo {

struct LatLon {
  double lat = 0;
  double lon = 0;
};

enum class Datum { kWgs84, kGcj02, kBd09 };

// Whether a WGS-84 or GCJ-02 point lies in the rectangle the GCJ-02 offset applies to.
bool InChina(LatLon p);

// WGS-84 → GCJ-02 (the published forward transform).
LatLon Wgs84ToGcj02(LatLon wgs);
// GCJ-02 → WGS-84: the forward transform inverted by iteration, to well under a centimetre.
LatLon Gcj02ToWgs84(LatLon gcj);
// GCJ-02 ↔ BD-09.
LatLon Gcj02ToBd09(LatLon gcj);
LatLon Bd09ToGcj02(LatLon bd);

// `p`, given in `datum`, as WGS-84.
LatLon ToWgs84(LatLon p, Datum datum);

// Great-circle distance in metres between two points of one datum (mean Earth radius).
double DistanceMeters(LatLon a, LatLon b);

}  // namespace civicpoints::geo

#endif  // CIVICPOINTS_COMMON_BASE_GEO_DATUM_H_
