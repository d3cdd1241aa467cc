"""Remediation from Slack: actions per resource type (run through the customer's opt-in
remediation role), the confirmation dialog and its gates, the queue and its worker."""
