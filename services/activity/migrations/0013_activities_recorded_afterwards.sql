-- Activities entered after they took place, from paper records (RecordPastActivity): marked, with
-- the reference of the scanned sign-in sheet the confirming street staff member checks.
ALTER TABLE activities
  ADD COLUMN recorded_afterwards boolean NOT NULL DEFAULT false,
  ADD COLUMN sign_in_sheet_ref   text    NOT NULL DEFAULT '';
