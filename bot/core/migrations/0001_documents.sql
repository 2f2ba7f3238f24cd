-- Every table the bot keeps (directory, ledgers, sessions, subscribers, status, outbox, gaps)
-- as JSON documents keyed by (table name, key), the same shape as the embedded store.
CREATE SEQUENCE elaas_rev;

CREATE TABLE elaas_docs (
    tbl text NOT NULL,
    key text NOT NULL,
    doc jsonb NOT NULL,
    -- rev changes on every write (Table.since); ord is fixed at insert (Table.all order).
    rev bigint NOT NULL DEFAULT nextval('elaas_rev'),
    ord bigint NOT NULL DEFAULT nextval('elaas_rev'),
    PRIMARY KEY (tbl, key)
);

CREATE INDEX elaas_docs_rev ON elaas_docs (tbl, rev);

-- A redelivered webhook never becomes a second ledger entry, whichever instance receives it.
CREATE UNIQUE INDEX elaas_ledger_event ON elaas_docs (tbl, (doc ->> 'event_id'))
    WHERE tbl LIKE 'lao/%/ledger' AND doc ->> 'event_id' <> '';
