"""dbt docs, served on 127.0.0.1 the way `make docs` serves them, show the
lineage of machine_learning_curated in a real (headless) Chromium."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.common import dbt_invoke
from scripts.services.local_s3 import free_port
from tests.python.lakehouse import Lakehouse

pytestmark = [pytest.mark.spark, pytest.mark.browser]

ARTIFACTS = dbt_invoke.PROJECT_DIR / "test-artifacts"
# Everything machine_learning_curated is built from (customers_curated is a
# sibling: both read the trusted zone).
EXPECTED_NODES = {
    "customer_trusted",
    "accelerometer_trusted",
    "step_trainer_trusted",
    "customer_screened",
    "accelerometer_screened",
    "step_trainer_screened",
    "machine_learning_curated",
    "landing.customer",
    "landing.accelerometer",
    "landing.step_trainer",
}
# The lineage graph is drawn by cytoscape on a canvas; cytoscape keeps its
# instance on its container element, which is how a test can read what is
# drawn.
DRAWN_NODE_LABELS = """
const container = [...document.querySelectorAll('*')].find(e => e._cyreg && e._cyreg.cy);
if (!container) { return null; }
const cy = container._cyreg.cy;
return cy.nodes().filter(n => n.visible()).map(n => n.data('label') || n.id());
"""


@pytest.fixture(scope="module")
def docs_url(lakehouse: Lakehouse) -> Iterator[str]:
    lakehouse.build(enforce_consent_date=True)
    result = lakehouse.dbt("docs", "generate")
    assert result.success
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dbt"),
            "docs",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
            "--target-path",
            str(lakehouse.target_path),
        ],
        cwd=dbt_invoke.PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                assert server.poll() is None, "dbt docs serve exited"
                assert time.monotonic() < deadline, "dbt docs serve did not answer"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    assert chromium and chromedriver, "run scripts/devtools/ensure_browser.sh (make test does)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1600,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_lineage_of_machine_learning_curated_draws_its_models_and_sources(
    docs_url: str, browser: object
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    driver.get(f"{docs_url}/#!/model/model.stedi.machine_learning_curated?g_v=1")  # type: ignore[attr-defined]

    def drawn_labels(_: object) -> set[str] | None:
        labels = driver.execute_script(DRAWN_NODE_LABELS)  # type: ignore[attr-defined]
        return set(labels) if labels and set(labels) >= EXPECTED_NODES else None

    try:
        labels = WebDriverWait(driver, 60, poll_frequency=0.5).until(drawn_labels)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "docs-lineage-machine_learning_curated.png"))  # type: ignore[attr-defined]
    assert labels >= EXPECTED_NODES
    assert "Step-detection model training" in labels  # the exposure, by its label
