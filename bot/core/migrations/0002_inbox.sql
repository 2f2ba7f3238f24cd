-- The shared inbox of several `serve` instances (handlers/pginbox.py): one row per accepted
-- channel event, keyed by channel:event_id so that a redelivery to any instance inserts nothing.
CREATE TABLE elaas_inbox (
    key text PRIMARY KEY,
    -- events of one order key (one user) are handled one after the other, in seq order
    order_key text NOT NULL,
    flood_key text NOT NULL DEFAULT '',
    seq bigint GENERATED ALWAYS AS IDENTITY,
    record jsonb NOT NULL,
    -- 0 accepted, 1 sending (a channel call may have gone out), 2 answered (or given up)
    state smallint NOT NULL DEFAULT 0,
    -- how the first attempt started sending (reply / push / send); replay decisions use it
    how text NOT NULL DEFAULT '',
    -- the inbound flood limit's verdict at accept time: ok, warn or drop
    verdict text NOT NULL DEFAULT 'ok',
    attempts int NOT NULL DEFAULT 0,
    accepted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX elaas_inbox_open ON elaas_inbox (order_key, seq) WHERE state < 2;
CREATE INDEX elaas_inbox_flood ON elaas_inbox (flood_key, accepted_at) WHERE flood_key <> '';
CREATE INDEX elaas_inbox_age ON elaas_inbox (accepted_at);

-- Who works on an order key now: a lease renewed by the owner's heartbeat. A killed instance
-- stops renewing; another one takes the key over when the lease has run out.
CREATE TABLE elaas_inbox_lease (
    order_key text PRIMARY KEY,
    owner text NOT NULL,
    until timestamptz NOT NULL
);
CREATE INDEX elaas_inbox_lease_owner ON elaas_inbox_lease (owner);
