"""``tickets``: a tenant's ticket targets (Jira Cloud, GitHub Issues, signed webhook).

    dd0c-cost tickets list --tenant acme
    dd0c-cost tickets set jira --tenant acme --config '{"kind": "jira", "base_url": "https://acme.atlassian.net",
        "project": "OPS", "email": "bot@acme.com"}' --credential-env JIRA_TOKEN [--default]
    dd0c-cost tickets remove jira --tenant acme

The credential is read from an environment variable (never from the command line, where it would
land in shell history) and sealed at rest."""

from __future__ import annotations

import json
import os


def register(sub) -> None:
    p = sub.add_parser("tickets", help="a tenant's ticket targets: list, set, remove")
    p.add_argument("action", choices=["list", "set", "remove"], help="list the ticket targets, set one, or remove one")
    p.add_argument("name", nargs="?", help="set/remove: the target's name")
    p.add_argument("--tenant", required=True, help="the tenant whose ticket targets these are")
    p.add_argument("--config", help="set: the target's JSON config (kind jira|github|webhook; see docs/slack.md)")
    p.add_argument("--credential-env", help="set: the environment variable holding the token / key / secret")
    p.add_argument("--default", action="store_true", help="set: the target the dialog preselects")
    p.set_defaults(func=cmd_tickets, needs_name=("set", "remove"))


def cmd_tickets(args) -> int:
    from pydantic import TypeAdapter, ValidationError

    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import open_connection, tenant_transaction
    from dd0c_cost.tickets.targets import Target, TargetConfig, delete_target, list_targets, set_target
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli()
    op = operator.open_operator_connection(url)
    try:
        tenant_id = operator.find_tenant(op, args.tenant)
    finally:
        op.close()
    if tenant_id is None:
        raise SystemExit(f"dd0c-cost: no tenant named {args.tenant!r}")
    conn = open_connection(url)
    try:
        with tenant_transaction(conn, tenant_id):
            if args.action == "set":
                credential = os.environ.get(args.credential_env or "", "")
                if not credential:
                    raise SystemExit("dd0c-cost: tickets set needs --credential-env NAME of a non-empty variable")
                try:
                    config = TypeAdapter(TargetConfig).validate_python(json.loads(args.config or "null"))
                    target = Target(name=args.name, config=config, is_default=args.default)
                except (ValueError, ValidationError) as exc:
                    raise SystemExit(f"dd0c-cost: bad target: {exc}") from None
                set_target(conn, tenant_id, target, credential, by="cli")
            elif args.action == "remove" and not delete_target(conn, args.name):
                raise SystemExit(f"dd0c-cost: no ticket target {args.name!r}")
            targets = list_targets(conn)
    finally:
        conn.close()
    for target in targets:
        default = "  (default)" if target.is_default else ""
        print(f"{target.name:<16} {target.kind:<8} {target.project or '-'}{default}")
    if not targets:
        print("no ticket targets")
    return 0
