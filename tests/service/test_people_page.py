"""The page's people view in a real browser (headless Chromium): the people with their face
crops, naming one, a click on a face that searches person:NAME, and the faces in an item's
details."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("dlib")
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from tests.service import test_browser  # noqa: E402
from tests.service.conftest import _live, people_app  # noqa: E402
from tests.service.test_browser import CHROMIUM, DRIVER, WAIT  # noqa: E402

chromium = test_browser.browser  # the browser tests' headless Chromium, as this module's fixture
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs chromium (setup.sh)")


@pytest.fixture(scope="module")
def people_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _live(people_app(tmp_path_factory)) as url:
        yield url


def test_people_view(chromium, people_url: str) -> None:  # type: ignore[no-untyped-def]
    browser = chromium
    browser.get(people_url)
    browser.find_element(By.ID, "people-toggle").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#people .person")) == 4)  # fmt: skip
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script(  # every crop a picture
        "return [...document.querySelectorAll('#people img')].every(i => i.naturalWidth === 96);"))
    first = browser.find_elements(By.CSS_SELECTOR, "#people .person")[0]
    assert "5 photos" in first.text
    first.find_element(By.CSS_SELECTOR, "button.link").click()  # Name
    alert = browser.switch_to.alert
    alert.send_keys("Barack Obama")
    alert.accept()
    WebDriverWait(browser, WAIT).until(
        lambda d: "Barack Obama" in d.find_element(By.ID, "people").text)  # fmt: skip
    browser.find_elements(By.CSS_SELECTOR, "#people .person .face")[0].click()
    WebDriverWait(browser, WAIT).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results .result")) == 5)  # fmt: skip
    assert browser.find_element(By.ID, "q").get_attribute("value") == 'person:"Barack Obama"'
    assert browser.find_element(By.CSS_SELECTOR, "#chips .chip.person").is_displayed()
    browser.find_elements(By.CSS_SELECTOR, "#results .result [data-open]")[0].click()
    WebDriverWait(browser, WAIT).until(
        lambda d: "Barack Obama" in d.find_element(By.ID, "details-body").text)  # fmt: skip
