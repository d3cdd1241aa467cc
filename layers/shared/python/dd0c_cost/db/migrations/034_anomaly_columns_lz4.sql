-- An anomaly row's long values are compressed with lz4 instead of pglz (issue 9; docs/decisions.md 100; as migration
-- 029 did for the series state). A new anomaly's list_json (~2.6 KB of JSON text on the bench stream) puts its row
-- past the 2 KB toast threshold, so every INSERT of a new anomaly and every rewrite of a grown one's list_json
-- compressed it with pglz: ~350k instructions a row, ~5 % of the scoring backend's work on the bench stream. lz4 does
-- the same for a fraction of the work. What is stored reads back the same; rows already stored keep pglz until their
-- value is written again (both read the same). A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE dd0c.anomalies
        ALTER COLUMN list_json SET COMPRESSION lz4,
        ALTER COLUMN attributes SET COMPRESSION lz4,
        ALTER COLUMN components SET COMPRESSION lz4,
        ALTER COLUMN summary SET COMPRESSION lz4,
        ALTER COLUMN event_ids SET COMPRESSION lz4,
        ALTER COLUMN resource_ids SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: the anomalies keep pglz';
END
$$;
