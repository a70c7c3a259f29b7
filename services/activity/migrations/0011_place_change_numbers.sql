-- Change numbers for places, for the nearby search's in-memory index (place_index.h): every insert
-- or update of a place takes the next number, and numbers are handed out in commit order, so a
-- reader that asks for the rows numbered above the last one it read never misses a change (a
-- timestamp would: a transaction that stamped its row earlier may commit later). The order comes
-- from `place_change_turn`, whose one row a writing transaction locks until it ends: a second
-- writer waits for the first to commit before it takes a number. Places are written rarely (staff
-- editing stations), so the wait is nothing.
CREATE SEQUENCE place_change_seq;
CREATE TABLE place_change_turn (
  one boolean PRIMARY KEY DEFAULT true CHECK (one)
);
INSERT INTO place_change_turn VALUES (true);

ALTER TABLE places ADD COLUMN change_no bigint;
UPDATE places SET change_no = nextval('place_change_seq');
ALTER TABLE places ALTER COLUMN change_no SET NOT NULL;
CREATE INDEX places_change_no ON places (change_no);

CREATE FUNCTION places_number_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM place_change_turn FOR UPDATE;
  NEW.change_no := nextval('place_change_seq');
  RETURN NEW;
END $$;
CREATE TRIGGER places_number_change BEFORE INSERT OR UPDATE ON places
  FOR EACH ROW EXECUTE FUNCTION places_number_change();
