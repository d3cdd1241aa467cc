"""POST /slack/interactions: Slack button clicks, verified by Slack's signature (not an API key)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from dd0c_cost.api.auth import raw_body
from dd0c_cost.api.errors import ApiError
from dd0c_cost.settings import get_settings

router = APIGatewayHttpRouter()


@router.post("/slack/interactions")
def slack_interactions() -> Response[dict]:
    from dd0c_cost.notify import InteractionRejected, parse_interaction
    from dd0c_cost.notify.actions import apply_slack_action

    secret = get_settings().slack_signing_secret or ""
    try:
        action = parse_interaction(router.current_event.headers or {}, raw_body(router.current_event), secret)
    except InteractionRejected as exc:
        raise ApiError(exc.status, "slack_request_rejected", exc.reason) from None
    if apply_slack_action(action) is None:
        raise ApiError(404, "not_found", f"no anomaly {action.anomaly_id} for this workspace's tenant")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body={"ok": True})
