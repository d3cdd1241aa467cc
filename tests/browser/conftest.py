"""Headless Chromium (Debian's chromium + chromium-driver, installed by scripts/setup.sh) driving
the console served by the real ``dd0c-cost serve`` on a database of the module's own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.pg_fixture import _url_for

REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("DD0C_TEST_OUTPUT", REPO / "test-output")) / "browser"


@pytest.fixture(scope="module")
def module_db(pg_server, migrated_template):
    from dd0c_cost_tools.local.embedded_pg import create_database, drop_database

    name = f"browser_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    admin = _url_for(pg_server, "postgres")
    create_database(admin, name, template=migrated_template)
    yield _url_for(pg_server, name)
    drop_database(admin, name)


@pytest.fixture(scope="module")
def server(module_db, tmp_path_factory):
    """``dd0c-cost serve --port 0`` on the module's database; yields its base URL."""
    data = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "DATABASE_URL": module_db, "DD0C_DATA_DIR": str(data)}
    env.pop("SLACK_BOT_TOKEN", None)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dd0c-cost"), "serve", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    port = None
    deadline = time.monotonic() + 120
    while port is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found:
            port = int(found.group(1))
    if port is None:
        proc.kill()
        pytest.fail("dd0c-cost serve did not start")
    # keep draining its log so the pipe never fills
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(chromium).exists() and Path(driver_path).exists()):
        pytest.fail("Chromium is missing: `apt-get install chromium chromium-driver` (scripts/setup.sh does it)")
    profile = tempfile.mkdtemp(prefix="dd0c-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name: str) -> Path:
    path = OUTPUT / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
