-- How riders appear on public rankings (RankingNameChoice in identity/v1/person.proto), and the
-- feed the ledger follows to show those names without asking identity on each read
-- (ListRankingNames).
CREATE SEQUENCE rider_numbers;

ALTER TABLE people
  ADD COLUMN ranking_name_choice smallint NOT NULL DEFAULT 1
    CONSTRAINT people_ranking_name_choice_defined
    CHECK (ranking_name_choice_defined(ranking_name_choice)),
  ADD COLUMN nickname text,
  -- The rider's number in the anonymous name ("小哥 #0012"), given once at registration.
  ADD COLUMN rider_number bigint UNIQUE,
  -- The transaction that last changed what the rider's ranking name is made of. The feed lists
  -- only rows of transactions that have ended (below the oldest one still running), in this
  -- order, so a change committed late behind a later one's is not passed over.
  ADD COLUMN ranking_name_xact xid8;

UPDATE people p SET rider_number = n.num
  FROM (SELECT person_id, row_number() OVER (ORDER BY registered_at, person_id) AS num
          FROM people WHERE is_rider) n
 WHERE p.person_id = n.person_id;
SELECT setval('rider_numbers', coalesce((SELECT max(rider_number) FROM people), 0) + 1, false);
UPDATE people SET ranking_name_xact = pg_current_xact_id() WHERE is_rider;

-- Every change to a rider's name, status or choice, by any statement, moves the rider to the
-- feed's end; a new rider gets a number.
CREATE FUNCTION people_ranking_name_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.is_rider THEN
    IF NEW.rider_number IS NULL THEN
      NEW.rider_number := nextval('rider_numbers');
    END IF;
    NEW.ranking_name_xact := pg_current_xact_id();
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER people_ranking_name
  BEFORE INSERT OR UPDATE OF display_name, status, is_rider, ranking_name_choice, nickname
  ON people FOR EACH ROW EXECUTE FUNCTION people_ranking_name_changed();

CREATE INDEX people_ranking_names ON people (ranking_name_xact, person_id) WHERE is_rider;
