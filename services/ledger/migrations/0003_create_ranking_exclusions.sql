-- Riders staff have taken out of the rankings (e.g. for gaming them), and the audit trail of every
-- exclusion and restoration. A rider's points and journal are untouched; only rankings skip them.
CREATE TABLE ranking_exclusions (
  person_id   text        PRIMARY KEY CHECK (length(person_id) BETWEEN 1 AND 64),
  reason      text        NOT NULL CHECK (length(reason) >= 1),
  excluded_by text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ranking_exclusion_events (
  event_id   bigserial   PRIMARY KEY,
  person_id  text        NOT NULL,
  action     text        NOT NULL CHECK (action IN ('exclude', 'restore')),
  reason     text        NOT NULL,
  actor_id   text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ranking_exclusion_events_by_person ON ranking_exclusion_events (person_id, event_id);
