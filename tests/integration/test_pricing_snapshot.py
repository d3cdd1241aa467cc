"""The price snapshot as files: rebuilt byte-identical from its sources (a subprocess), and not
read at import time (a subprocess with an audit hook)."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


DATA_DIR = REPO_ROOT / "layers" / "shared" / "python" / "dd0c_cost" / "pricing" / "data"


BUILD_SCRIPT = REPO_ROOT / "scripts" / "build_price_snapshot.py"


SHARED_PRICING = REPO_ROOT.parent / "shared" / "pricing"


def test_import_reads_no_data_files():
    code = (
        "import sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda ev, args: opened.append(str(args[0])) if ev == 'open' else None)\n"
        "import dd0c_cost.pricing\n"
        "from dd0c_cost.pricing import get_price_book\n"
        "get_price_book()\n"
        "data = [p for p in opened if 'pricing' in p and p.endswith('.json')]\n"
        "assert not data, data\n"
        "get_price_book().ec2_instance('us-east-1', 'm5.large')\n"
        "assert [p for p in opened if p.endswith('ec2.json')], 'audit hook saw no load'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_rebuild_is_byte_identical(tmp_path):
    if not SHARED_PRICING.is_dir():
        pytest.fail(
            f"price source data not found at {SHARED_PRICING} (expected <repo>/../shared/pricing); "
            "the snapshot cannot be verified without it"
        )
    out = tmp_path / "data"
    run = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--source", str(SHARED_PRICING), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    built = sorted(p.name for p in out.iterdir())
    shipped = sorted(p.name for p in DATA_DIR.iterdir() if p.is_file())
    assert built == shipped
    different = [name for name in built if not filecmp.cmp(out / name, DATA_DIR / name, shallow=False)]
    assert not different, f"snapshot out of date, rerun scripts/build_price_snapshot.py: {different}"


def test_the_refresh_module_does_not_import_boto3_at_import_time():
    code = "import sys, dd0c_cost_tools.pricing.refresh; assert 'boto3' not in sys.modules, 'boto3 imported at import'; print('ok')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "ok" in run.stdout, run.stderr
