-- One-time codes sent by SMS (RequestSmsCode) for ResetPassword and LoginWithSmsCode: at most one
-- live code per phone, kept only as a keyed hash of the phone hash and the code, so a dump of the
-- table cannot be tried against the million codes.
CREATE TABLE sms_codes (
  phone_hash  bytea       PRIMARY KEY,
  code_hash   bytea       NOT NULL,
  tries_left  smallint    NOT NULL CHECK (tries_left BETWEEN 0 AND 5),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX sms_codes_expiry ON sms_codes (expires_at);
