"""Unit tests of the output boundary (core/output): machine fields kept, texts masked, paths shown
relative to LOUPE_HOME, Markdown/HTML inert."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from core.output import (
    html_text,
    mask_data,
    mask_label,
    mask_message,
    mask_table,
    md,
    md_code,
    md_inline_html,
    show_path,
    term,
)

FINGERPRINT = "881ea4155550123ed56a8e3d5a4f3b308b9e1c0ffee4155550123aa4155550123ab"[:64]


def test_machine_fields_are_never_text_masked() -> None:
    assert mask_message(f"fingerprint {FINGERPRINT} of run 4f2a9c1b3d") == \
        f"fingerprint {FINGERPRINT} of run 4f2a9c1b3d"
    data = {"fingerprint": FINGERPRINT, "run_id": "4155550123", "created_at": "2026-01-02 03:04:05",
            "note": "call +1 (209) 171-4521", "values": [1.5, 2]}
    masked = mask_data(data)
    assert masked["fingerprint"] == FINGERPRINT and masked["run_id"] == "4155550123"
    assert masked["created_at"] == data["created_at"] and masked["values"] == [1.5, 2]
    assert masked["note"] == "call <PHONE_NUMBER>"


def test_masking_twice_changes_nothing() -> None:
    once = mask_label("jane.doe@example.com")
    assert once.startswith("<EMAIL:") and mask_message(once) == once and mask_label(once) == once
    assert mask_message(mask_message("mail jane.doe@example.com")) == "mail <EMAIL>"


def test_data_containers_mask_keys_named_like_machine_fields() -> None:
    prep = {"categories": {"customer_id": ["jane.doe@example.com", "walk-in"]},
            "metrics": {"test_f1_jane.doe@example.com": 0.5}}
    masked = mask_data(prep, "hash")
    assert masked["categories"]["customer_id"][0].startswith("<EMAIL:")
    assert list(masked["metrics"]) == ["test_f1_" + mask_label("jane.doe@example.com")]


def test_two_labels_stay_two_and_match_their_probability_columns() -> None:
    import pandas as pd

    frame = pd.DataFrame({"prediction": ["a@example.com", "b@example.com"],
                          "p_a@example.com": [0.9, 0.2], "p_b@example.com": [0.1, 0.8]})
    out = mask_table(frame)
    assert len(set(out["prediction"])) == 2
    assert {f"p_{v}" for v in out["prediction"]} == set(out.columns[1:])
    assert out["p_" + out["prediction"][0]].tolist() == [0.9, 0.2]


def test_paths_are_relative_to_loupe_home_or_a_masked_name(loupe_home: Path, tmp_path: Path) -> None:
    loupe_home.mkdir(parents=True, exist_ok=True)
    inside = loupe_home / "runs" / "4f2a9c1b3d" / "model"
    assert show_path(inside) == "$LOUPE_HOME/runs/4f2a9c1b3d/model"
    outside = tmp_path / "owner.x@example.net" / "houses 0412 345 678.csv"
    shown = show_path(outside)
    assert str(tmp_path) not in shown and "owner.x" not in shown
    assert show_path(tmp_path / "jane.doe@example.com") == "<EMAIL>"
    assert show_path("sample:house_prices") == "sample:house_prices"


def test_markdown_is_inert_in_a_permissive_renderer() -> None:
    hostile = ("![l](//localhost:8999/x.png) <img src=x onerror=alert(1)> [a](javascript:alert(1)) "
               "<https://evil.test> www.evil.test :red[x] $x$ | # * _ `code`")
    source = "- " + md(hostile, mask=False) + " " + md_code(hostile, mask=False)
    html = MarkdownIt("commonmark").render(source)
    assert "<img" not in html and "<a " not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert md("line\nbreak\r# heading", mask=False) == "line break \\# heading"


def test_inline_markdown_to_html_and_escapes() -> None:
    assert md_inline_html(f"Label {md_code('<b>x</b>', mask=False)} and {md('a_b <i>', mask=False)}") == \
        "Label <code>&lt;b&gt;x&lt;/b&gt;</code> and a_b &lt;i&gt;"
    assert html_text('<img src="x">', mask=False) == "&lt;img src=&quot;x&quot;&gt;"
    assert term("red \x1b[31m\r over", mask=False) == "red \\x1b[31m\\x0d over"
