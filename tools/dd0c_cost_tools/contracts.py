"""Generated contracts: JSON Schemas of the messages between stages and the OpenAPI document,
written from the pydantic models and checked in; CI fails when they drift from the models."""

from __future__ import annotations

import json
from pathlib import Path

from dd0c_cost.events.models import CostEvent, IngestMessage, NotifyMessage, RemediationMessage, TicketMessage
from dd0c_cost_tools import REPO_ROOT

SCHEMAS = {
    "cost-event.v1.json": CostEvent,
    "ingest-message.v1.json": IngestMessage,
    "notify-message.v1.json": NotifyMessage,
    "ticket-message.v1.json": TicketMessage,
    "remediation-message.v1.json": RemediationMessage,
}


def repo_root() -> Path:
    return REPO_ROOT


def rendered() -> dict[Path, str]:
    from dd0c_cost.api.app import openapi_document

    root = repo_root()
    out: dict[Path, str] = {}
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://dd0c.dev/schemas/{name}"
        out[root / "events" / "schemas" / name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    out[root / "docs" / "openapi.json"] = json.dumps(json.loads(openapi_document()), indent=2, sort_keys=True) + "\n"
    return out


def write() -> list[Path]:
    written = []
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


def stale() -> list[Path]:
    return [path for path, text in rendered().items() if not path.exists() or path.read_text() != text]
