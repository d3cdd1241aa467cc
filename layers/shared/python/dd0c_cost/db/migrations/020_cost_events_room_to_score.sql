-- Scoring throughput (issue 9). Scoring writes every cost event once more (the claim and the score:
-- scored_at, score, score_components). With full pages that new row version goes to another page,
-- and each of the table's four indexes (one of them GIN over resource_ids) gets an entry for it;
-- with room left on the page it is a HOT update, which writes no index entry (none of the three
-- columns is indexed). Measured (`dd0c-cost bench score`, 2,050 events): 14% of the updates were
-- HOT at the default fillfactor of 100, 90% at 60, 65% at 75. Rows stored from now on leave that
-- room; the table takes about 1.6 times the space.
ALTER TABLE dd0c.cost_events SET (fillfactor = 60);
