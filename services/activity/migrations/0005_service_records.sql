-- Service records: a rider's report of a service done or a problem found, reviewed by the staff
-- of the community where it happened, with one appeal to the street. status: 1 submitted,
-- 2 verified, 3 rejected, 4 appealed, 5 appeal denied (ServiceRecordStatus). Attachments are
-- kept as serialized protos (references only; the files live in object storage).
CREATE TABLE service_records (
  service_record_id   text             PRIMARY KEY,
  rider_id            text             NOT NULL,
  kind                smallint         NOT NULL CHECK (kind > 0),
  description         text             NOT NULL,
  latitude            double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
  longitude           double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
  address             text             NOT NULL DEFAULT '',
  community_id        text             NOT NULL,
  street_id           text             NOT NULL,
  district_id         text             NOT NULL,
  occur_at            timestamptz      NOT NULL,
  attachments         bytea            NOT NULL DEFAULT '',
  source_system       text             NOT NULL DEFAULT '',
  external_ref        text             NOT NULL DEFAULT '',
  status              smallint         NOT NULL CHECK (status BETWEEN 1 AND 5),
  reviewed_by         text             NOT NULL DEFAULT '',
  review_note         text             NOT NULL DEFAULT '',
  reviewed_at         timestamptz,
  appeal_reason       text             NOT NULL DEFAULT '',
  appeal_attachments  bytea            NOT NULL DEFAULT '',
  appealed_at         timestamptz,
  decision            smallint         NOT NULL DEFAULT 0 CHECK (decision BETWEEN 0 AND 2),
  decision_reason     text             NOT NULL DEFAULT '',
  decided_by          text             NOT NULL DEFAULT '',
  decided_at          timestamptz,
  submit_day          date             NOT NULL,
  created_at          timestamptz      NOT NULL DEFAULT now(),
  updated_at          timestamptz      NOT NULL DEFAULT now()
);
-- A city system's own id for a report is unique per system.
CREATE UNIQUE INDEX service_records_external ON service_records (source_system, external_ref)
  WHERE external_ref <> '';
CREATE INDEX service_records_rider ON service_records (rider_id, created_at DESC, service_record_id);
CREATE INDEX service_records_rider_day ON service_records (rider_id, submit_day);
CREATE INDEX service_records_community ON service_records (community_id, created_at DESC);
CREATE INDEX service_records_street ON service_records (street_id, created_at DESC);
CREATE INDEX service_records_district ON service_records (district_id, created_at DESC);
