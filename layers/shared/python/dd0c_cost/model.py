"""The base of every pydantic model in dd0c_cost: validators and serialisers are built on first use.

Pydantic builds a model's core schema, validator and serialiser when its class statement runs,
unless the model defers it (``defer_build``): then the first validation, dump or schema request
builds it. A handler's cold start imports many more models than its first call uses (the API
function imports every route's), so every model here defers (docs/decisions.md: "Models build on
first use"); ``tests/unit/test_models_deferred.py`` checks that each one does.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """``pydantic.BaseModel`` with ``defer_build``; subclasses' own ``model_config`` merges with it."""

    model_config = ConfigDict(defer_build=True)
