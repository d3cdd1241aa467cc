"""``keys create|list|revoke``: a tenant's API keys, scoped read or write, with an expiry; only
their hashes are kept, so a new key's secret is printed once."""

from __future__ import annotations

import sys

from dd0c_cost_tools.cli.output import format_table


def register(sub) -> None:
    p = sub.add_parser("keys", help="create, list or revoke a tenant's API keys (scope read|write, expiry)")
    p.add_argument(
        "action", choices=["create", "list", "revoke"], help="create a key (printed once), list, or revoke one"
    )
    p.add_argument("key", nargs="?", help="revoke: the key's id or prefix (as `keys list` shows)")
    p.add_argument("--tenant", required=True, help="the tenant whose keys these are")
    p.add_argument("--scope", choices=["read", "write"], default="write", help="create: read-only or read-write")
    p.add_argument("--name", help="create: what the key is for")
    p.add_argument("--expires-in-days", type=float, help="create: the key stops working after this many days")
    p.set_defaults(func=cmd_keys)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def cmd_keys(args) -> int:
    if getattr(args, "remote_action", None):
        return _create_remote(args)
    from dd0c_cost.auth import keys
    from dd0c_cost.db import operator
    from dd0c_cost_tools.local.database import database_url_for_cli

    conn = operator.open_operator_connection(database_url_for_cli())
    try:
        tenant_id = operator.find_tenant(conn, args.tenant)
        if tenant_id is None:
            raise SystemExit(f"dd0c-cost: no tenant named {args.tenant!r}")
        if args.action == "create":
            secret, made = keys.create_key(
                conn, tenant_id, scope=args.scope, name=args.name, expires_in_days=args.expires_in_days
            )
            _print_new_key(secret, made["scope"], made["prefix"], made["expires_at"])
        elif args.action == "list":
            _print_keys(keys.list_keys(conn, tenant_id))
        else:
            if not args.key:
                raise SystemExit("dd0c-cost: keys revoke needs the key's id or prefix")
            count = keys.revoke_key(conn, tenant_id, args.key)
            if not count:
                raise SystemExit(f"dd0c-cost: no active key {args.key!r} for tenant {args.tenant!r}")
            print(f"revoked {count} key(s)")
    finally:
        conn.close()
    return 0


def _create_remote(args) -> int:
    """The deployed stack's operator function makes the key (``--stack``)."""
    from datetime import datetime

    from dd0c_cost_tools.cli import remote

    made = remote.call(
        args.stack,
        args.remote_action,
        {"tenant": args.tenant, "scope": args.scope, "name": args.name, "expires_in_days": args.expires_in_days},
    )
    expires = datetime.fromisoformat(made["expires_at"]) if made.get("expires_at") else None
    _print_new_key(made["secret"], made["scope"], made["prefix"], expires)
    return 0


def _print_new_key(secret: str, scope: str, prefix: str, expires) -> None:
    """The secret on stdout (the only time it is shown), what it is on stderr."""
    print(secret)
    print(f"{scope} key {prefix}… expires {_when(expires)}; store it now: only its hash is kept", file=sys.stderr)


def _print_keys(rows: list) -> None:
    print(
        format_table(
            [
                [
                    r["prefix"],
                    str(r["id"]),
                    r["scope"],
                    r["name"] or "",
                    _when(r["created_at"]),
                    _when(r["expires_at"]),
                    _when(r["last_used_at"]),
                    "revoked " + _when(r["revoked_at"]) if r["revoked_at"] else "active",
                ]
                for r in rows
            ],
            ["prefix", "id", "scope", "name", "created", "expires", "last used", "state"],
        )
    )
