-- Places (CreatePlace .. SearchNearbyPlaces, GetPlaceCoverageStats): a two-dimensional index for
-- the nearby search's bounding box, the list order (community, name, id) under each org level, a
-- keeper's own places, and a retired place always carries its reason.

-- GiST over (longitude, latitude) as a point: the search asks for the box around the radius
-- (`point(longitude, latitude) <@ box(...)`) and sorts the few hits by exact great-circle distance.
CREATE INDEX places_geo ON places USING gist (point(longitude, latitude)) WHERE retired_at IS NULL;

CREATE INDEX places_community_list ON places (community_id, name, place_id);
CREATE INDEX places_street_list ON places (street_id, community_id, name, place_id);
CREATE INDEX places_district_list ON places (district_id, community_id, name, place_id);
CREATE INDEX places_keeper ON places (keeper_person_id) WHERE keeper_person_id <> '';

ALTER TABLE places ADD CONSTRAINT places_retire_reason
  CHECK (retired_at IS NULL OR char_length(retire_reason) BETWEEN 1 AND 200);
ALTER TABLE places ADD CONSTRAINT places_services
  CHECK (cardinality(services) <= 16 AND array_position(services, NULL) IS NULL);
