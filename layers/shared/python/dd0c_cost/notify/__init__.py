"""Slack: the anomaly message (``message``), posting it or writing it to the outbox (``slack``), and
verified interactions (``interactions``).

The package itself imports nothing: ``notify.store`` and ``notify.sweep`` serve functions whose first
call never talks to Slack (notify_sweep), and any import of a submodule runs this file first, so
re-exporting the Slack modules here cost every such cold start slack_sdk (docs/decisions.md: "A
package's ``__init__`` imports nothing its submodules' users do not need")."""
