-- Riders who closed their account (CloseRiderOrders): their orders were ended and new ones are
-- refused. Only the pseudonymous id is kept.
CREATE TABLE closed_riders (
  rider_id   text        PRIMARY KEY,
  closed_at  timestamptz NOT NULL DEFAULT now()
);
