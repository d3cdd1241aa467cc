"""dd0c/cost: real-time AWS cost anomaly detection from CloudTrail.

Cold start. A handler module's imports allocate a few hundred thousand long-lived objects (module
dicts, functions, classes, pydantic and Powertools tables) and almost no garbage, yet they trigger
the cyclic garbage collector's generational passes over all of them, a full one included: a tenth
of a cold import's CPU. So when this package is first imported inside a Lambda function (its
``LAMBDA_TASK_ROOT`` and ``AWS_LAMBDA_FUNCTION_NAME`` are set), the collector is paused, and every
handler module ends with ``cold_start_done()``: it moves what the imports built into the
collector's permanent generation (``gc.freeze``: later full passes of warm invocations skip it) and
resumes collection (docs/decisions.md: "No garbage collection while a handler imports").
"""

import gc as _gc
import os as _os

__version__ = "0.1.0"

# What every function's environment sets for its cold start (the CDK adds it to each function's
# variables; ``dd0c-cost bench imports`` too). pydantic looks for plugins (entry points of every
# installed distribution, through ``importlib.metadata``) the first time it builds a model; the
# layers hold no pydantic plugin, so the look-up finds nothing and costs the first call its
# import. The deps layer imports ``importlib.metadata`` only where it is used (scripts/
# trim_deps_layer.py), so with plugins off no function imports it.
COLD_START_ENVIRONMENT = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}

_PAUSED = bool(_os.environ.get("LAMBDA_TASK_ROOT") and _os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
if _PAUSED:
    _gc.disable()


def cold_start_done() -> None:
    """The last statement of every handler module (``functions/<name>/handler.py``)."""
    global _PAUSED
    if _PAUSED:
        _PAUSED = False
        _gc.freeze()
        _gc.enable()
