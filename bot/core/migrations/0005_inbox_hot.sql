-- Fewer index entries and WAL per inbox event (handlers/pginbox.py). Measured by one cycle of
-- accept, claim, sending mark and release with two deferred documents per event (pg_waldump):
-- index entries 18.6 -> 9.3 per event, WAL 3.5 -> 2.7 kB per event.
-- * Room on each inbox page for the claim's attempts update and the sending mark (it sets
--   `how` alone now; state stays 0, so 1 is only met in rows of older versions): updates
--   that change no indexed column, nor the open index's predicate, are HOT.
ALTER TABLE elaas_inbox SET (fillfactor = 60);
-- * No index on accepted_at: it took an entry at the accept and at each mark, for the
--   once-a-minute cleanup alone (a scan of the day's rows instead).
DROP INDEX elaas_inbox_age;
-- * A released lease row stays (until = -infinity) and the next claim updates it; without
--   the owner index (the heartbeat scans the small table) that update is HOT even when the
--   user moves to the other instance. The cleanup deletes released rows once a minute.
DROP INDEX elaas_inbox_lease_owner;
ALTER TABLE elaas_inbox_lease SET (fillfactor = 50);
