"""dd0c/cost: real-time AWS cost anomaly detection from CloudTrail."""

__version__ = "0.1.0"
