"""The page in a real Chromium (headless, through chromedriver): text search with thumbnails
that load, an image and a sound uploaded, a moment that starts the player at its time, the
microphone (Chromium's fake device playing a real recording), and a screenshot for the docs.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
DOCS = Path(__file__).resolve().parents[2] / "docs"
WAIT = 60  # seconds: a search with an upload runs the models on a shared 2-core CPU

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian chromium and chromium-driver (scripts/setup.sh)"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, hello_wav: Path) -> Iterator[object]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,900",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
                "--autoplay-policy=no-user-gesture-required",
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-audio-capture={hello_wav}"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _results(driver, at_least: int = 1) -> list:  # type: ignore[no-untyped-def,type-arg]
    WebDriverWait(driver, WAIT).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".result")) >= at_least
    )
    return driver.find_elements(By.CSS_SELECTOR, ".result")


def _titles(driver) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        driver.execute_script(  # one call: the grid may be replaced meanwhile
            "return [...document.querySelectorAll('.result .title')].map(e => e.textContent);"
        )
    )


def _upload(driver, input_id: str, path: Path) -> None:  # type: ignore[no-untyped-def]
    field = driver.find_element(By.ID, input_id)
    driver.execute_script("arguments[0].hidden = false;", field)
    field.send_keys(str(path))


def _loaded_thumbnails(driver) -> int:  # type: ignore[no-untyped-def]
    return int(driver.execute_script(
        "return [...document.querySelectorAll('#results .result img.thumb')]"
        ".filter(i => i.complete && i.naturalWidth > 0).length;"
    ))  # fmt: skip


def _shown(driver) -> int:  # type: ignore[no-untyped-def]
    """Results shown: weak ones are folded away, their thumbnails loaded when unfolded."""
    return len(driver.find_elements(By.CSS_SELECTOR, "#results .result"))


def test_text_search_shows_loaded_thumbnails_and_url(browser, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser.get(live_url + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("a cat")
    browser.find_element(By.ID, "search-btn").click()
    _results(browser, 3)
    assert _titles(browser)[0] == "chelsea.jpg"
    WebDriverWait(browser, WAIT).until(lambda d: _loaded_thumbnails(d) == _shown(d) > 0)
    assert "q=a+cat" in browser.current_url  # shareable
    browser.find_element(By.ID, "q").clear()
    browser.find_element(By.ID, "q").send_keys("a rocket")
    browser.find_element(By.ID, "search-btn").click()
    WebDriverWait(browser, WAIT).until(lambda d: _titles(d)[:1] == ["rocket.jpg"])
    browser.back()  # the back button brings the earlier query back
    WebDriverWait(browser, WAIT).until(lambda d: _titles(d)[:1] == ["chelsea.jpg"])
    assert browser.find_element(By.ID, "q").get_attribute("value") == "a cat"


def test_screenshot_for_the_docs(browser, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser.get(live_url + "/?q=an+animal")
    _results(browser, 6)
    WebDriverWait(browser, WAIT).until(lambda d: _loaded_thumbnails(d) == _shown(d) > 0)
    DOCS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(DOCS / "page.png"))


def _why(driver) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Each shown card's explanation as (tag, text) lines."""
    script = ("return [...document.querySelectorAll('#results .result')].map(c => "
              "[...c.querySelectorAll('.why li')].map(li => li.querySelector('.tag').textContent"
              " + ' ' + li.querySelector('.text').textContent));")  # fmt: skip
    return list(driver.execute_script(script))


def test_cards_show_the_served_explanation_lines(browser, live_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The page shows the lines the API serves (the CLI prints the same), not its own."""
    served = httpx.get(f"{live_url}/api/search", params={"q": "a cat", "k": 3}).json()["results"]
    browser.get(live_url + "/?q=a+cat&k=5")
    _results(browser, 1)
    WebDriverWait(browser, WAIT).until(lambda d: _titles(d)[:1] == ["chelsea.jpg"])
    first = served[0]["explanation"]["lines"]
    assert first and _why(browser)[0] == first[:4]
    # more like this: the cards show the lines its answer serves (what each file shares)
    url = f"{live_url}/api/items/{served[0]['id']}/similar"
    similar = httpx.get(url, params={"k": 10}).json()["results"]
    browser.find_element(By.CSS_SELECTOR, "#results .result [data-similar]").click()
    WebDriverWait(browser, WAIT).until(lambda d: "chelsea.jpg" not in _titles(d)[:1])
    shown = {t: why for t, why in zip(_titles(browser), _why(browser))}
    # a moment is the card's own badge, not a line
    lines = {Path(r["path"]).name: [line for line in r["explanation"]["lines"]
                                    if r["start"] is None or not line.startswith("moment ")][:4]
             for r in similar}  # fmt: skip
    assert shown and all(why == lines[t] for t, why in shown.items()), (shown, lines)
    assert browser.save_screenshot(str(tmp_path / "similar.png"))
    shutil.copy(tmp_path / "similar.png", "/tmp/similar.png")


def test_uploaded_image_finds_itself(browser, live_url: str, photos: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    browser.get(live_url + "/")
    _upload(browser, "image-input", photos["coffee"])
    WebDriverWait(browser, WAIT).until(lambda d: _titles(d)[:1] == ["coffee.jpg"])
    assert browser.find_element(By.CSS_SELECTOR, ".chip[data-kind=image] img")


def test_audio_upload_finds_the_crow(browser, live_url: str, crow_ogg: Path) -> None:  # type: ignore[no-untyped-def]
    browser.get(live_url + "/")
    _upload(browser, "audio-input", crow_ogg)
    WebDriverWait(browser, WAIT).until(lambda d: _titles(d)[:1] == ["crow.ogg"])


def test_moment_link_starts_the_player_at_its_time(browser, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser.get(live_url + "/?q=a+penguin&type=video")
    (card,) = _results(browser)
    link = card.find_element(By.CSS_SELECTOR, ".moment-link")
    start = float(link.get_attribute("data-start"))
    assert 3.5 <= start < 9
    link.click()
    player = WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "player"))
    WebDriverWait(browser, WAIT).until(
        lambda d: (
            d.execute_script("return arguments[0].readyState", player) >= 1
            and d.execute_script("return arguments[0].currentTime", player) >= start - 0.01
        )
    )
    now = browser.execute_script("return arguments[0].currentTime", player)
    assert start - 0.01 <= now < start + 3


def test_microphone_records_and_searches(browser, live_url: str) -> None:  # type: ignore[no-untyped-def]
    browser.get(live_url + "/")
    mic = browser.find_element(By.ID, "mic-btn")
    mic.click()
    WebDriverWait(browser, 10).until(lambda d: "recording" in mic.get_attribute("class"))
    browser.execute_script("return new Promise(r => setTimeout(r, 2500));")
    mic.click()
    chip = ".chip[data-kind=audio]"
    WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, chip))
    _results(browser, 3)
    assert "hello-world.wav" in _titles(browser)[:3]
    assert "error" not in browser.find_element(By.ID, "status").get_attribute("class")


def _chips(driver) -> list[str]:  # type: ignore[no-untyped-def]
    script = "return [...document.querySelectorAll('#chips .chip')].map(c => c.dataset.key);"
    return list(driver.execute_script(script))


def test_syntax_chips_and_pages(browser, live_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A query in the search syntax shows its parts as chips; removing one searches again
    without it; pages of 5 load on into the next as the page is scrolled."""
    browser.get(live_url + "/")
    Select(browser.find_element(By.ID, "k")).select_by_visible_text("5")  # pages of 5
    box = browser.find_element(By.ID, "q")
    box.send_keys('type:image a cat -dog "cat"')
    browser.find_element(By.ID, "search-btn").click()
    WebDriverWait(browser, WAIT).until(lambda d: _chips(d) == ["type", "not", "phrase"])
    assert browser.save_screenshot(str(tmp_path / "chips.png"))
    remove = browser.find_element(By.CSS_SELECTOR, '#chips .chip[data-key="type"] .x')
    remove.click()
    WebDriverWait(browser, WAIT).until(lambda d: _chips(d) == ["not", "phrase"])
    assert browser.find_element(By.ID, "q").get_attribute("value") == 'a cat -dog "cat"'
    assert "type%3Aimage" not in browser.current_url and "type:image" not in browser.current_url
    # pages: a query every file answers, 5 at a time, scrolled to the end
    box.clear()
    box.send_keys("something -nothing")
    browser.find_element(By.ID, "search-btn").click()
    _results(browser, 1)
    total = int(browser.execute_script("return state.page.total;"))
    assert total > 5
    for _ in range(10):
        browser.execute_script("window.scrollTo(0, document.body.scrollHeight);")
        if len(browser.find_elements(By.CSS_SELECTOR, ".result")) >= total:
            break
        WebDriverWait(browser, WAIT).until(lambda d: not d.execute_script("return state.loading;"))
    ids = browser.execute_script(
        "return [...document.querySelectorAll('.result')].map(c => c.dataset.id);"
    )
    assert len(ids) == len(set(ids)) == total  # every result once, over pages
    cursors = browser.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('cursor=')).length;"
    )
    assert cursors >= 1  # the pages after the first came by cursor
    weak = int(browser.execute_script("return state.page.weak;"))
    summary = browser.find_element(By.ID, "weak-summary").get_attribute("textContent")
    assert weak == 0 or f"{weak} weak result" in summary  # folded away, with their count
    assert browser.find_element(By.ID, "status").text
