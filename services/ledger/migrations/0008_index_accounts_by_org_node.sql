-- Where a street or community lies in the org tree (its district, its street), for checking a
-- staff member's or city system's grant against a scope named only by its node id. Node ids never
-- move, so any account whose latest award was there tells. An account's path columns change only
-- when a rider's award comes from another node, so the postings' updates stay heap-only.
CREATE INDEX accounts_by_street ON accounts (street_id) WHERE street_id <> '';
CREATE INDEX accounts_by_community ON accounts (community_id) WHERE community_id <> '';
