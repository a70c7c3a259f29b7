// The datum conversions: the size and direction of the GCJ-02 offset where it applies, none
// outside China, round trips to well under a centimetre, and the case they exist for: a rider
// inside a geofence whose map reports GCJ-02.
#include "common/base/geo_datum.h"

#include <gtest/gtest.h>

namespace civicpoints::geo {
namespace {

constexpr LatLon kDatong{40.0937, 113.2956};  // 清远西街, 平城区
constexpr LatLon kBeijing{39.9087, 116.3975};
constexpr LatLon kShenzhen{22.5431, 114.0579};

TEST(GeoDatumTest, TheGcjOffsetIsHundredsOfMetresNorthEastInChinaAndNoneOutside) {
  for (LatLon p : {kDatong, kBeijing, kShenzhen}) {
    const LatLon g = Wgs84ToGcj02(p);
    const double offset = DistanceMeters(p, g);
    EXPECT_GT(offset, 100) << p.lat << "," << p.lon;
    EXPECT_LT(offset, 1000) << p.lat << "," << p.lon;
    EXPECT_GT(g.lon, p.lon) << "east";
  }
  // Beijing's offset as map users know it: about +0.0014° north, +0.0062° east.
  const LatLon g = Wgs84ToGcj02(kBeijing);
  EXPECT_NEAR(g.lat - kBeijing.lat, 0.0014, 0.0003);
  EXPECT_NEAR(g.lon - kBeijing.lon, 0.0062, 0.0005);
  const LatLon paris{48.8566, 2.3522};
  EXPECT_EQ(Wgs84ToGcj02(paris).lat, paris.lat);
  EXPECT_EQ(Gcj02ToWgs84(paris).lon, paris.lon);
  EXPECT_FALSE(InChina(paris));
  EXPECT_TRUE(InChina(kDatong));
}

TEST(GeoDatumTest, RoundTripsComeBackToWellUnderACentimetre) {
  for (LatLon p : {kDatong, kBeijing, kShenzhen, LatLon{45.75, 126.65}, LatLon{30.66, 104.06}}) {
    EXPECT_LT(DistanceMeters(Gcj02ToWgs84(Wgs84ToGcj02(p)), p), 0.01) << p.lat;
    EXPECT_LT(DistanceMeters(Bd09ToGcj02(Gcj02ToBd09(p)), p), 0.01) << p.lat;
    const LatLon bd = Gcj02ToBd09(Wgs84ToGcj02(p));
    EXPECT_LT(DistanceMeters(ToWgs84(bd, Datum::kBd09), p), 0.01) << p.lat;
    EXPECT_EQ(ToWgs84(p, Datum::kWgs84).lat, p.lat);
  }
  // BD-09 shifts GCJ-02 by a further ~0.006° north, ~0.0065° east.
  const LatLon g = Wgs84ToGcj02(kDatong), b = Gcj02ToBd09(g);
  EXPECT_NEAR(b.lat - g.lat, 0.006, 0.002);
  EXPECT_NEAR(b.lon - g.lon, 0.0065, 0.002);
}

TEST(GeoDatumTest, ARiderInsideAGeofenceIsInsideOnceTheirGcjPositionIsConverted) {
  // A place at 清远西街 with a 100 m geofence, and a rider 50 m north of it.
  const LatLon place = kDatong;
  const LatLon rider{kDatong.lat + 50.0 / 111195.0, kDatong.lon};
  ASSERT_NEAR(DistanceMeters(place, rider), 50, 1);
  // Their phone's map reports GCJ-02: taken as WGS-84 it is hundreds of metres off, outside.
  const LatLon reported = Wgs84ToGcj02(rider);
  EXPECT_GT(DistanceMeters(place, reported), 100);
  // Converted, it is where the rider stands.
  EXPECT_NEAR(DistanceMeters(place, ToWgs84(reported, Datum::kGcj02)), 50, 0.1);
}

}  // namespace
}  // namespace civicpoints::geo
