-- A series' scoring state is compressed with lz4 instead of pglz (issue 9; docs/decisions.md 92). Each scoring
-- transaction writes a series' state whole (~2 KB of JSON text on the bench stream, 3.3 KB at most), which puts
-- the row past the 2 KB toast threshold, so every save compressed it and every load decompressed it: pglz was
-- ~6 % of the scoring backend's instructions. lz4 compresses this text about as well (1,087 against 1,034
-- bytes on average; the same WAL per event) for about half the work. Rows already stored keep pglz until
-- their next save (both read the same). A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE dd0c.spend_baselines ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: the series state stays compressed with pglz';
END
$$;
