-- us() declared STABLE, which is what its body is (extract() from a timestamptz is stable), so
-- PostgreSQL inlines it into every statement that converts a time. Declared IMMUTABLE it was run as
-- a function call for every value instead: about 2 µs each against 0.25 µs inlined, measured on a
-- list of orders. No index or constraint uses it (those would need IMMUTABLE).
CREATE OR REPLACE FUNCTION us(t timestamptz) RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
  AS 'SELECT (extract(epoch FROM t) * 1000000)::bigint';
