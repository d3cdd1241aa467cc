-- Issue 12: the per-tenant line at which an unpriced change alerts on its shape
-- (scoring/shape.py; NULL = the default, ScoringConfig.unpriced_alert_score).
-- Read by the scorer only for batches holding an unpriced event, so scoring_load is unchanged.
ALTER TABLE dd0c.tenant_settings
    ADD COLUMN IF NOT EXISTS unpriced_alert_score double precision
        CHECK (unpriced_alert_score > 0 AND unpriced_alert_score <= 1);
