"""`bench imports` measures the deps layer the checkout's scripts build, never a stale one."""

from __future__ import annotations

from pathlib import Path

import pytest

from dd0c_cost_tools.bench import imports


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in imports.DEPS_LAYER_INPUTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    return tmp_path


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    built: list[Path] = []

    def fake_build(cmd: list[str], check: bool, env: dict[str, str]) -> None:
        out = Path(cmd[-1])
        (out / "python").mkdir(parents=True, exist_ok=True)
        built.append(out)

    monkeypatch.setattr(imports.subprocess, "run", fake_build)
    return built


def test_a_layer_built_from_the_same_inputs_is_reused(checkout: Path, builds: list[Path]) -> None:
    imports.host_deps_layer(checkout)
    imports.host_deps_layer(checkout)
    assert len(builds) == 1


@pytest.mark.parametrize("changed", imports.DEPS_LAYER_INPUTS)
def test_a_changed_build_input_rebuilds_the_layer(checkout: Path, builds: list[Path], changed: str) -> None:
    imports.host_deps_layer(checkout)
    (checkout / changed).write_text("# edited\n")
    imports.host_deps_layer(checkout)
    assert len(builds) == 2


def test_a_layer_without_a_stamp_is_rebuilt(checkout: Path, builds: list[Path]) -> None:
    (checkout / "build" / "deps-layer-host" / "python").mkdir(parents=True)
    imports.host_deps_layer(checkout)
    assert len(builds) == 1
