"""Issue 13 item 1: class labels, run names, notes and tags that are Markdown/HTML injections are
shown as text in every Markdown and HTML writer (model card, README.md, the HTML report, the
explanation page, the Export page's st.markdown of the card): nothing is fetched or run.

Markdown is checked by rendering it with a CommonMark renderer that allows raw HTML (markdown-it-py,
as a permissive viewer would) and parsing the result; HTML by parsing it; and, when Chromium is
installed, by opening the files in a real browser that records every request and dialog.
"""

from __future__ import annotations

import io
import os
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.hostile.output_runs import IMG_HTML, IMG_MD, NAME, NOTES, hostile_text_run

ACTIVE_TAGS = {"img", "script", "iframe", "svg", "object", "embed", "link", "meta", "base", "form",
               "video", "audio", "source"}


class Elements(HTMLParser):
    """Every start tag with its attributes, and script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


def assert_inert(html: str, allow_inline_scripts: bool = False) -> None:
    """No element that fetches or runs anything came from the data."""
    for tag, attrs in elements(html):
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "a":
            href = (attrs.get("href") or "").lower().lstrip()
            assert not href.startswith(("javascript:", "//", "http")), attrs
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/"), attrs
        elif tag == "script":
            assert allow_inline_scripts and "src" not in attrs, attrs
        elif tag in ACTIVE_TAGS - {"meta"}:
            raise AssertionError(f"<{tag}> in the output: {attrs}")


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> str:
    home, run_id = hostile_text_run()
    monkeypatch.setenv("LOUPE_HOME", str(home))
    return run_id


def _card_files(run_id: str) -> dict[str, str]:
    from core.export import collect_export

    files = collect_export(run_id).files
    return {name: files[name].decode() for name in ("MODEL_CARD.md", "README.md")}


def test_model_card_renders_hostile_labels_names_and_notes_as_text(run: str) -> None:
    renderer = MarkdownIt("commonmark")  # html=True: raw HTML would pass straight through
    for name, card in _card_files(run).items():
        html = renderer.render(card)
        assert_inert(html)
        assert "localhost:8999" in html  # the text is still shown, only inert
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, name
        assert "![l](//localhost:8999/label.png)" in html.replace("&quot;", '"'), name
    card = _card_files(run)["MODEL_CARD.md"]
    assert IMG_HTML not in card.replace("`" + IMG_HTML + "`", "")  # raw only inside code spans
    assert IMG_MD not in card.replace("`" + IMG_MD + "`", "")


def test_html_report_escapes_every_hostile_text(run: str) -> None:
    from core.export import build_html_report

    html = build_html_report(run)
    assert_inert(html, allow_inline_scripts=True)
    for text in (IMG_HTML, "<script>alert(4)</script>", "<svg onload=alert(5)>"):
        assert text not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_explanation_page_escapes_labels_and_title(run: str, tmp_path: Path) -> None:
    from core.explain import explain

    expl = explain(run, "great battery number 1", max_evals=40)
    out = tmp_path / "e.html"
    expl.to_html(str(out), title=NAME)
    html = out.read_text()
    assert_inert(html, allow_inline_scripts=True)
    assert "<img src=x onerror=alert(2)>" not in html
    assert IMG_HTML not in html


def test_export_page_markdown_is_inert(run: str) -> None:
    from tests.dashboard.conftest import no_exception, open_page

    at = open_page("export")
    at.button(key="prep_zip").click().run()
    no_exception(at)
    bodies = [m.value for m in at.markdown]
    assert any("Model card" in b for b in bodies)
    renderer = MarkdownIt("commonmark")
    for body in bodies:
        assert_inert(renderer.render(body))


@pytest.mark.skipif(not os.path.exists(os.environ.get("LOUPE_CHROMIUM", "/usr/bin/chromium")),
                    reason="no Chromium")
def test_browser_fetches_and_runs_nothing(run: str, tmp_path: Path) -> None:
    """Open the report, the explanation page and the rendered card in Chromium: no request leaves
    the file (plotly.js is inline) and no dialog opens."""
    from core.explain import explain
    from core.export import write_html_report
    from tests.browser.harness import browser

    pages = [write_html_report(run, tmp_path / "report.html")]
    expl = explain(run, "great battery number 2", max_evals=40)
    pages.append(Path(expl.to_html(str(tmp_path / "explain.html"), title=NAME)))
    card = _card_files(run)["MODEL_CARD.md"]
    rendered = MarkdownIt("commonmark").render(card)
    (tmp_path / "card.html").write_text("<!DOCTYPE html><meta charset=utf-8>" + rendered)
    pages.append(tmp_path / "card.html")
    with browser() as page:
        requests: list[str] = []
        dialogs: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for path in pages:
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_timeout(800)
        assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
        assert dialogs == []
        assert page.locator("img").count() == 0


def test_zip_card_matches_what_the_page_shows(run: str) -> None:
    """The dashboard renders the same escaped bytes the zip carries (one rule for both)."""
    from core.export import export_model_folder

    with zipfile.ZipFile(io.BytesIO(export_model_folder(run))) as zf:
        card = zf.read("MODEL_CARD.md").decode()
    assert card == _card_files(run)["MODEL_CARD.md"]
    assert NOTES not in card
