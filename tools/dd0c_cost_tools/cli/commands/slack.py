"""``slack``: a tenant's Slack — install link, status, routes, uninstall (operator side of the
``/v1/slack`` API; the same code paths)."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("slack", help="a tenant's Slack: install link, status, routes, uninstall")
    p.add_argument(
        "action",
        choices=["status", "install-link", "routes", "uninstall"],
        help="how alerts are delivered, a one-time install link, the routes, or forget the installation",
    )
    p.add_argument("--tenant", required=True, help="the tenant whose Slack this is")
    p.add_argument("--public-url", help="the API's public base URL (install-link; default DD0C_PUBLIC_URL)")
    p.add_argument("--default", dest="default_channel", metavar="CHANNEL|none", help="routes: the default channel")
    for kind, example in (
        ("account", "111122223333=#prod-cost"),
        ("service", "rds=#dba"),
        ("severity", "critical=#oncall"),
    ):
        p.add_argument(
            f"--{kind}",
            action="append",
            default=[],
            metavar=example,
            help=f"routes: send this {kind}'s alerts to a channel ('{kind.upper()}=none' removes it)",
        )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_slack)


def _tenant(url: str, name: str):
    from dd0c_cost.db import operator

    op = operator.open_operator_connection(url)
    try:
        tenant_id = operator.find_tenant(op, name)
    finally:
        op.close()
    if tenant_id is None:
        raise SystemExit(f"dd0c-cost: no tenant named {name!r}")
    return tenant_id


def _pairs(items: list[str], kind: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for item in items:
        key, sep, channel = item.partition("=")
        if not sep or not key or not channel:
            raise SystemExit(f"dd0c-cost: --{kind} wants {kind.upper()}=CHANNEL, got {item!r}")
        out[key] = None if channel == "none" else channel
    return out


def _set_routes(conn, tenant_id, args) -> None:
    from pydantic import ValidationError

    from dd0c_cost.api.routes.slack import SlackRoutes, replace_routes, slack_status

    current = slack_status(conn, tenant_id).routes.model_dump()
    if args.default_channel is not None:
        current["default"] = None if args.default_channel == "none" else args.default_channel
    for kind in ("account", "service", "severity"):
        for key, channel in _pairs(getattr(args, kind), kind).items():
            if channel is None:
                current[kind].pop(key, None)
            else:
                current[kind][key] = channel
    try:
        routes = SlackRoutes(**current)
    except ValidationError as exc:
        raise SystemExit(f"dd0c-cost: {exc.errors()[0]['msg']}") from None
    replace_routes(conn, tenant_id, routes, by="cli")


def cmd_slack(args) -> int:
    from dd0c_cost.api.routes.slack import slack_status
    from dd0c_cost.db.connection import open_connection, tenant_transaction
    from dd0c_cost.notify import store
    from dd0c_cost.settings import get_settings
    from dd0c_cost_tools.local.database import database_url_for_cli

    url = database_url_for_cli()
    tenant_id = _tenant(url, args.tenant)
    conn = open_connection(url)  # the runtime role: row-level security scopes everything to the tenant
    try:
        if args.action == "install-link":
            from dd0c_cost.notify.oauth import InstallError, create_install_link

            settings = get_settings()
            public_url = args.public_url or settings.public_url
            if not public_url:
                raise SystemExit(
                    "dd0c-cost: slack install-link needs --public-url or DD0C_PUBLIC_URL (the API's base URL)"
                )
            try:
                link = create_install_link(conn, tenant_id, by="cli", public_url=public_url, settings=settings)
            except InstallError as exc:
                raise SystemExit(f"dd0c-cost: {exc.reason}") from None
            print(json.dumps(link.as_json()) if args.json else link.url)
            if not args.json:
                print(
                    f"open it in a browser signed in to the workspace; it works once, until {link.expires_at:%H:%M:%S} UTC",
                    file=sys.stderr,
                )
            return 0
        if args.action == "uninstall":
            with tenant_transaction(conn, tenant_id):
                removed = store.remove_installation(conn)
            print("installation removed: alerts are kept as undelivered" if removed else "no active installation")
        elif args.action == "routes":
            _set_routes(conn, tenant_id, args)
        status = slack_status(conn, tenant_id)
    finally:
        conn.close()
    if args.json:
        print(status.model_dump_json(indent=2))
        return 0
    installation = status.installation or {}
    print(f"delivery      {status.delivery}" + (f" ({status.undelivered_reason})" if status.undelivered_reason else ""))
    if installation:
        where = installation.get("team_name") or installation.get("team_id") or installation.get("enterprise_id")
        print(f"installation  {installation['status']} in {where} since {installation['installed_at'][:19]}")
    routes = status.routes
    print(f"default       {routes.default or '(the channel picked at install)'}")
    for kind in ("account", "service", "severity"):
        for key, channel in getattr(routes, kind).items():
            print(f"{kind:<13} {key} -> {channel}")
    return 0
