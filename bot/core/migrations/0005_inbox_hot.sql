-- Updates of the inbox and lease rows without new index entries (HOT), measured with two
-- `serve` instances (bench/bench_scale.py --statements): WAL per event 5.2 -> 4.2 kB.
-- * Room on each inbox page for the claim's attempts update (HOT: it changes no indexed
--   column) and for the sending and answered marks (the same page: a short WAL record).
ALTER TABLE elaas_inbox SET (fillfactor = 60);
-- * A released lease row stays (until = -infinity) and the next claim updates it: without
--   the owner index (the heartbeat scans the small table) that update is HOT even when the
--   user moves to the other instance. The cleanup deletes released rows once a minute.
DROP INDEX elaas_inbox_lease_owner;
ALTER TABLE elaas_inbox_lease SET (fillfactor = 50);
