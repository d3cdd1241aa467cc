"""What the dashboard API reads: anomaly lists with filters and cursors, anomaly detail with its
events and timeline, spend rates and series, baselines, accounts with flow health, a summary.
Every function runs inside the caller's tenant transaction, so row-level security scopes it."""
