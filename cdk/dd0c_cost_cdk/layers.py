"""The two Lambda layers: our shared domain package, and third-party dependencies."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .config import BUILD_DEPS_SCRIPT, REPO_ROOT, DeployConfig
from .runtime import ARCHITECTURE, RUNTIME
from .shared_layer import staged_shared_layer

# Never ship interpreter caches (they are platform-specific and change every local run, which
# would change the asset hash and force a new layer version on each deploy).
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache", "**/*.egg-info"]
# The layers are build outputs whose bytecode is part of them: compiled for the runtime's Python,
# hash-based (reproducible) — the deps layer by its build script, the shared layer at synth
# (shared_layer.py). Lambda cannot write .pyc under /opt, so without them every cold start compiles
# the whole layer again.
DEPS_ASSET_EXCLUDES = ["**/.pytest_cache", "**/.mypy_cache", "**/*.egg-info"]

SHARED_LAYER_PATH = REPO_ROOT / "layers" / "shared"  # the sources; shipped compiled (shared_layer.py)


class DepsLayerMissing(FileNotFoundError):
    pass


class Layers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        self.shared = lambda_.LayerVersion(
            self,
            "Shared",
            description="dd0c_cost: the shared domain package (layers/shared/python)",
            code=lambda_.Code.from_asset(str(staged_shared_layer(SHARED_LAYER_PATH)), exclude=DEPS_ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
        deps_path = check_deps_layer(config.deps_layer_path)
        self.deps = lambda_.LayerVersion(
            self,
            "Deps",
            description="third-party runtime dependencies, built by " + BUILD_DEPS_SCRIPT,
            code=lambda_.Code.from_asset(str(deps_path), exclude=DEPS_ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.shared, self.deps]


def check_deps_layer(path: Path) -> Path:
    """Fail synth early, naming the script, instead of deploying functions that cannot import."""
    if not (path / "python").is_dir() or not any((path / "python").iterdir()):
        raise DepsLayerMissing(
            f"the deps Lambda layer is missing: {path}/python does not exist or is empty. "
            f"Build it first with `{BUILD_DEPS_SCRIPT}` (no Docker needed), or point context "
            f"depsLayerPath at a directory that contains python/."
        )
    return path
