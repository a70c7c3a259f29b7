-- Enum columns are checked against the values the proto defines, through the functions made from
-- the binary's descriptors before every migration (common/pg/sql_enums.h), instead of number
-- ranges written by hand. A zero reason or intent means none.
ALTER TABLE gifts
  DROP CONSTRAINT gifts_category_check,
  ADD CONSTRAINT gifts_category_defined CHECK (gift_category_defined(category));
ALTER TABLE stock_movements
  DROP CONSTRAINT stock_movements_kind_check,
  ADD CONSTRAINT stock_movements_kind_defined CHECK (stock_movement_kind_defined(kind));
ALTER TABLE exchange_windows
  DROP CONSTRAINT exchange_windows_state_check,
  ADD CONSTRAINT exchange_windows_state_defined CHECK (exchange_window_state_defined(state));
ALTER TABLE redemptions
  DROP CONSTRAINT redemptions_state_check,
  ADD CONSTRAINT redemptions_state_defined CHECK (redemption_state_defined(state)),
  ADD CONSTRAINT redemptions_intent_named CHECK (redemption_state_name(intent) IS NOT NULL),
  ADD CONSTRAINT redemptions_intent_reason_named CHECK (error_reason_name(intent_reason) IS NOT NULL),
  ADD CONSTRAINT redemptions_failure_reason_named
    CHECK (error_reason_name(failure_reason) IS NOT NULL);
ALTER TABLE redemption_requests
  ADD CONSTRAINT redemption_requests_refusal_reason_named
    CHECK (error_reason_name(refusal_reason) IS NOT NULL);
