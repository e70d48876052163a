"""The written report in headless Chromium: every chart drawn by plotly, no
console errors, nothing fetched, the metric and threshold controls work.

Needs Debian's chromium and chromium-driver (`apt-get install chromium
chromium-driver`) and selenium in the virtualenv; without them the tests
fail and say so. A full-page screenshot is saved next to each report.
"""

import base64
import shutil
import tempfile

import pytest

from tests.report.checks import read_report_data

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--window-size=1280,900",
)


def _require_browser():
    missing = [name for name in ("chromium", "chromedriver")
               if shutil.which(name) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: install them with "
            "'apt-get update && apt-get install -y chromium chromium-driver'")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.fail("selenium is missing: install it with "
                    "'.venv/bin/pip install selenium'")


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="report-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS + (f"--user-data-dir={profile}",):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver")))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path):
    """Loads the report, waits until plotly drew every chart, and returns
    the console errors logged meanwhile."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(path.as_uri())
    charts = read_report_data(path)["charts"]
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return arguments[0].every(function (id) {"
        "  return document.querySelector('#' + id + ' svg.main-svg'); });",
        charts))
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _screenshot(driver, path):
    """Saves a full-page PNG beside the report."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})[
        "cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"],
                 "height": size["height"], "scale": 1}})
    target = path.with_suffix(".png")
    target.write_bytes(base64.b64decode(shot["data"]))
    return target


def _check_page(driver, path):
    errors = _open(driver, path)
    assert errors == [], f"console errors: {errors}"

    data = read_report_data(path)
    for chart in data["charts"]:
        bars = driver.execute_script(
            "return document.querySelectorAll("
            "'#' + arguments[0] + ' .barlayer .point path').length;", chart)
        assert bars > 0, f"chart {chart} drew no bars"

    fetched = driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".map(function (e) { return e.name; });")
    assert [u for u in fetched if not u.startswith(("file:", "data:"))] == []
    _screenshot(driver, path)


def test_handmade_report_draws_without_errors(browser, handmade_report):
    _check_page(browser, handmade_report)


def test_pipeline_report_draws_without_errors(browser, pipeline_report):
    _check_page(browser, pipeline_report)


def test_metric_and_threshold_controls_switch_the_chart(
        browser, handmade_report):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    assert _open(browser, handmade_report) == []
    visible = (
        "return document.getElementById('fairness-chart').data"
        ".filter(function (t) { return t.visible === true; })"
        ".map(function (t) { return t.meta.metric + '@' + t.meta.threshold; "
        "});")
    assert browser.execute_script(visible) == [
        "false_positive_rate@0.1", "false_positive_rate@0.5",
        "false_positive_rate@0.9"]

    Select(browser.find_element(By.ID, "fi-metric")).select_by_value(
        "false_negative_rate")
    browser.find_element(
        By.CSS_SELECTOR, 'input[name="fi-threshold"][value="0.1"]').click()
    assert browser.execute_script(visible) == [
        "false_negative_rate@0.5", "false_negative_rate@0.9"]
    traces = browser.execute_script(
        "return document.querySelectorAll("
        "'#fairness-chart .barlayer .trace').length;")
    assert traces == 2

    shown_tables = [t.get_attribute("data-metric") for t in
                    browser.find_elements(By.CSS_SELECTOR, ".fi-table")
                    if t.is_displayed()]
    assert shown_tables == ["false_negative_rate"]
    header = browser.find_element(
        By.CSS_SELECTOR, '.fi-table[data-metric="false_negative_rate"] thead')
    assert "@0.1" not in header.text and "@0.5" in header.text
    assert browser.find_element(By.ID, "fi-description").text.startswith(
        "share of survivors")
    assert [e for e in browser.get_log("browser")
            if e["level"] == "SEVERE"] == []
