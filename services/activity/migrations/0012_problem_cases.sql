-- Problem cases (问题整改): a verified problem report opens one, or is linked to an open one of the
-- same kind within 50 m and 24 h; the street assigns it to a responsible department (an identity
-- org node of level DEPARTMENT) with a notice number and a deadline; the department records
-- progress and closes it. Every change is a row of problem_case_steps, the case's history.
CREATE TABLE problem_cases (
  case_id          text             PRIMARY KEY,
  kind             smallint         NOT NULL CHECK (service_record_kind_defined(kind)),
  status           smallint         NOT NULL CHECK (problem_case_status_defined(status)),
  community_id     text             NOT NULL,
  street_id        text             NOT NULL,
  district_id      text             NOT NULL,
  latitude         double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
  longitude        double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
  address          text             NOT NULL DEFAULT '',
  description      text             NOT NULL,
  first_record_id  text             NOT NULL UNIQUE REFERENCES service_records,
  reporter_id      text             NOT NULL,
  -- When the first report's problem was seen: the 24 h of linking count from it.
  first_seen_at    timestamptz      NOT NULL,
  report_count     integer          NOT NULL DEFAULT 1 CHECK (report_count >= 1),
  department_id    text             NOT NULL DEFAULT '',
  notice_number    text             NOT NULL DEFAULT '',
  deadline         timestamptz,
  assigned_by      text             NOT NULL DEFAULT '',
  assigned_at      timestamptz,
  outcome          smallint         NOT NULL DEFAULT 0
                                    CHECK (problem_case_outcome_name(outcome) IS NOT NULL),
  close_note       text             NOT NULL DEFAULT '',
  after_photo      bytea            NOT NULL DEFAULT '',
  closed_by        text             NOT NULL DEFAULT '',
  closed_at        timestamptz,
  created_at       timestamptz      NOT NULL DEFAULT now(),
  updated_at       timestamptz      NOT NULL DEFAULT now(),
  -- An assigned case has its department, notice and deadline; a closed one its outcome and note.
  CHECK (status = problem_case_status('OPEN') OR
         (department_id <> '' AND notice_number <> '' AND deadline IS NOT NULL)),
  CHECK ((status = problem_case_status('CLOSED')) = (outcome <> 0 AND closed_at IS NOT NULL))
);
-- Linking looks for a case not closed, of one kind, seen lately.
CREATE INDEX problem_cases_linkable ON problem_cases (kind, first_seen_at)
  WHERE closed_at IS NULL;
CREATE INDEX problem_cases_community ON problem_cases (community_id, created_at DESC, case_id);
CREATE INDEX problem_cases_street ON problem_cases (street_id, created_at DESC, case_id);
CREATE INDEX problem_cases_district ON problem_cases (district_id, created_at DESC, case_id);
CREATE INDEX problem_cases_department ON problem_cases (department_id, created_at DESC, case_id)
  WHERE department_id <> '';
CREATE INDEX problem_cases_reporter ON problem_cases (reporter_id, created_at DESC, case_id);

CREATE TABLE problem_case_steps (
  case_id      text        NOT NULL REFERENCES problem_cases,
  seq          integer     NOT NULL,
  kind         smallint    NOT NULL CHECK (problem_case_step_kind_defined(kind)),
  note         text        NOT NULL DEFAULT '',
  attachments  bytea       NOT NULL DEFAULT '',
  actor_id     text        NOT NULL,
  subject_id   text        NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, seq)
);

-- The case a verified problem report opened or joined; a rider sees the cases of their reports.
ALTER TABLE service_records ADD COLUMN problem_case_id text REFERENCES problem_cases;
CREATE INDEX service_records_problem_case ON service_records (problem_case_id)
  WHERE problem_case_id IS NOT NULL;
