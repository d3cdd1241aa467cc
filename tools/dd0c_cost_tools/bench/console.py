"""``dd0c-cost bench console``: the console's first load on the demo data in headless Chromium
(navigation until the overview's plot is drawn, cold cache) and the bundle's size."""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def console(port: int, runs: int) -> int:
    """First load of the console on the demo data: navigation until the overview's plot is drawn."""
    from dd0c_cost.console import asset

    sizes = {name: len(asset(name)[0]) for name in ("index.html", "app.js", "app.css")}
    gz = {name: len(gzip.compress(asset(name)[0], 9)) for name in sizes}
    link = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from dd0c_cost_tools.cli.commands.demo import console_link; print(console_link('demo', {port}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    key = link.split("key=", 1)[1]
    env = {**os.environ}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dd0c-cost"), "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_health(port)
        times = _first_loads(port, key, runs)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(
        f"console first load on the demo data (navigation until the overview's spend plot is drawn, cold cache, "
        f"{runs} runs): median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms; "
        f"load avg {os.getloadavg()[0]:.1f}"
    )
    print(
        "bundle: "
        + ", ".join(f"{n} {sizes[n] / 1024:.1f} KiB ({gz[n] / 1024:.1f} KiB gzip)" for n in sizes)
        + f"; total {sum(sizes.values()) / 1024:.1f} KiB ({sum(gz.values()) / 1024:.1f} KiB gzip)"
    )
    return 0


def _wait_for_health(port: int) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # the local pipeline takes a while to start
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request("GET", "/health")
            if probe.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.5)


def _first_loads(port: int, key: str, runs: int) -> list[float]:
    """Headless Chromium, signed in with ``key``: seconds from navigation to the plot drawn, per run."""
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tempfile.mkdtemp(prefix='dd0c-bench-chromium-')}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    times = []
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        driver.execute_script(
            "return fetch('/v1/session', {method: 'POST', headers: {'content-type': 'application/json'}, "
            "body: JSON.stringify({key: arguments[0]})}).then(r => r.status)",
            key,
        )
        for run in range(runs):
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            t0 = time.perf_counter()
            driver.get(f"http://127.0.0.1:{port}/?run={run}#/")  # a new document every time
            WebDriverWait(driver, 30, poll_frequency=0.01).until(
                lambda d: d.execute_script("return !!document.querySelector('[data-testid=spend-chart] canvas')")
            )
            times.append(time.perf_counter() - t0)
    finally:
        driver.quit()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dd0c-cost bench console")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    return console(args.port, args.runs)
