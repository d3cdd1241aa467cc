-- The rules the scoring transaction's tables keep on their values are kept by domains instead of table CHECK
-- constraints (issue 9; docs/decisions.md 95). Same rules, same rows refused (SQLSTATE 23514 either way); what
-- changes is their cost: PostgreSQL parses a table's CHECK expressions again for every statement that writes the
-- table (each of scoring_save's parts: 13 expressions per scoring transaction, ~9 % of the scoring backend's work
-- on the bench stream) and checks every one on every UPDATE, also of columns the statement leaves alone (the
-- score UPDATE of a cost event checked its action and quantity), while a domain's expressions are parsed once per
-- session (the type cache) and checked only for the columns a statement assigns.
-- No table is rewritten: the columns take domains without constraints first (the same base type: no rewrite, the
-- indexes kept), then the domains get their CHECKs as NOT VALID (new values are checked; stored ones were checked
-- by the table constraints, valid until they are dropped here in the same transaction).

CREATE DOMAIN dd0c.fraction AS double precision;               -- a score: [0, 1] (NULL allowed where the column is)
CREATE DOMAIN dd0c.nonnegative AS double precision;            -- $/h, quantities, weights, sums of squares
CREATE DOMAIN dd0c.event_count AS bigint;                            -- a number of events
CREATE DOMAIN dd0c.cost_action AS text;
CREATE DOMAIN dd0c.novelty_dimension AS text;

ALTER TABLE dd0c.cost_events
    ALTER COLUMN score TYPE dd0c.fraction,
    ALTER COLUMN quantity TYPE dd0c.nonnegative,
    ALTER COLUMN action TYPE dd0c.cost_action;
ALTER TABLE dd0c.spend_baselines
    ALTER COLUMN n TYPE dd0c.event_count,
    ALTER COLUMN m2 TYPE dd0c.nonnegative,
    ALTER COLUMN weight TYPE dd0c.nonnegative,
    ALTER COLUMN level_usd_per_hour TYPE dd0c.nonnegative;
ALTER TABLE dd0c.tenant_baselines
    ALTER COLUMN n TYPE dd0c.event_count,
    ALTER COLUMN m2 TYPE dd0c.nonnegative,
    ALTER COLUMN weight TYPE dd0c.nonnegative,
    ALTER COLUMN level_usd_per_hour TYPE dd0c.nonnegative;
ALTER TABLE dd0c.tenant_novelty
    ALTER COLUMN dimension TYPE dd0c.novelty_dimension,
    ALTER COLUMN max_usd_per_hour TYPE dd0c.nonnegative;

ALTER DOMAIN dd0c.fraction ADD CONSTRAINT fraction_check CHECK (VALUE >= 0 AND VALUE <= 1) NOT VALID;
ALTER DOMAIN dd0c.nonnegative ADD CONSTRAINT nonnegative_check CHECK (VALUE >= 0) NOT VALID;
ALTER DOMAIN dd0c.event_count ADD CONSTRAINT event_count_check CHECK (VALUE >= 0) NOT VALID;
ALTER DOMAIN dd0c.cost_action ADD CONSTRAINT cost_action_check
    CHECK (VALUE IN ('create', 'start', 'modify', 'stop', 'delete')) NOT VALID;
ALTER DOMAIN dd0c.novelty_dimension ADD CONSTRAINT novelty_dimension_check
    CHECK (VALUE IN ('region', 'family', 'service', 'principal', 'tier')) NOT VALID;

ALTER TABLE dd0c.cost_events
    DROP CONSTRAINT cost_events_score_check,
    DROP CONSTRAINT cost_events_quantity_check,
    DROP CONSTRAINT cost_events_action_check;
ALTER TABLE dd0c.spend_baselines
    DROP CONSTRAINT spend_baselines_n_check,
    DROP CONSTRAINT spend_baselines_m2_check,
    DROP CONSTRAINT spend_baselines_weight_check,
    DROP CONSTRAINT spend_baselines_level_usd_per_hour_check;
ALTER TABLE dd0c.tenant_baselines
    DROP CONSTRAINT tenant_baselines_n_check,
    DROP CONSTRAINT tenant_baselines_m2_check,
    DROP CONSTRAINT tenant_baselines_weight_check,
    DROP CONSTRAINT tenant_baselines_level_usd_per_hour_check;
ALTER TABLE dd0c.tenant_novelty
    DROP CONSTRAINT tenant_novelty_dimension_check,
    DROP CONSTRAINT tenant_novelty_max_usd_per_hour_check;
