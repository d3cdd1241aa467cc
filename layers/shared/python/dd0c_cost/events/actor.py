"""Who made a CloudTrail call, in words an on-call engineer recognises."""

from __future__ import annotations

from dd0c_cost.events.models import Actor


def actor_from_record(record: dict) -> Actor:
    identity = record.get("userIdentity")
    identity = identity if isinstance(identity, dict) else {}
    kind = identity.get("type") if isinstance(identity.get("type"), str) else None
    arn = identity.get("arn") if isinstance(identity.get("arn"), str) else None
    issuer = (
        ((identity.get("sessionContext") or {}).get("sessionIssuer") or {})
        if isinstance(identity.get("sessionContext"), dict)
        else {}
    )

    if kind == "Root":
        name = "root"
    elif kind == "AssumedRole" and arn and "/" in arn:
        # arn:aws:sts::123:assumed-role/RoleName/session -> RoleName/session
        name = arn.split(":assumed-role/", 1)[-1]
    elif kind == "AWSService":
        name = identity.get("invokedBy") or "aws-service"
    elif identity.get("userName"):
        name = str(identity["userName"])
    elif arn:
        name = arn.rsplit("/", 1)[-1] or arn
    else:
        name = identity.get("principalId") or identity.get("invokedBy") or "unknown"

    source_ip = record.get("sourceIPAddress")
    user_agent = record.get("userAgent")
    return Actor(
        principal_arn=arn,
        identity_type=kind,
        display_name=str(name),
        account_id=identity.get("accountId") if isinstance(identity.get("accountId"), str) else None,
        source_ip=source_ip if isinstance(source_ip, str) else None,
        user_agent=user_agent[:300] if isinstance(user_agent, str) else None,
        session_issuer_arn=issuer.get("arn") if isinstance(issuer.get("arn"), str) else None,
    )
