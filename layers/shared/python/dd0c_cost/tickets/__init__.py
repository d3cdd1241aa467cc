"""Tickets from Slack: targets (Jira Cloud, GitHub Issues, signed webhook) with sealed credentials,
the button and modal, the queue and its worker."""
