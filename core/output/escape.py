"""The escaping side of the output boundary: one rule per destination.

Text that came from the data or from a user (labels, run names, notes, tags, column names, file
names) is masked first (``core.output.masking``) and then escaped for where it goes:

- **Markdown** (``md``): every ASCII punctuation character that Markdown, GFM or Streamlit gives a
  meaning (``:`` opens Streamlit's ``:material/…:`` and ``:red[…]``, ``$`` its LaTeX) is
  backslash-escaped, line breaks become spaces and URL schemes/``www.`` lose their power, so
  ``![l](//host/x.png)``, ``<img src=x onerror=…>``, ``[a](javascript:…)`` or ``www.evil.test``
  render as the literal characters: nothing is fetched, run or linked. ``md_code`` is the same
  text shown as inline code.
- **HTML** (``html_text``): ``html.escape`` with quotes, so data never becomes a tag or attribute.
- **Terminal** (``term``): control characters (ANSI escapes, carriage returns that overwrite a
  line) are shown as ``\\xNN`` instead of being obeyed.

The dashboard renders the model card with ``st.markdown``; the card is written with ``md`` here,
so the same bytes are safe in Streamlit, on the Hugging Face Hub and in any CommonMark viewer.
"""

from __future__ import annotations

import html
import re

from core.output.masking import mask_message

# CommonMark allows a backslash before any ASCII punctuation; these are the ones with a meaning.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~&:$@])")
_WWW = re.compile(r"(?i)\b(www)\.")  # GFM links a bare www.host: break the prefix
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def md(value: object, mask: bool = True) -> str:
    """Masked, escaped inline Markdown text: renders as exactly these characters."""
    text = mask_message(value) if mask else str(value)
    text = _LINE_BREAKS.sub(" ", text)
    text = _CONTROL.sub("", text)
    return _WWW.sub(r"\1\\.", _MD_SPECIAL.sub(r"\\\1", text))


def md_code(value: object, mask: bool = True) -> str:
    """Masked text as an inline code span: literal in every renderer (no HTML, no links)."""
    text = mask_message(value) if mask else str(value)
    text = _CONTROL.sub("", _LINE_BREAKS.sub(" ", text))
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0) + 1
    fence = "`" * ticks
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def html_text(value: object, mask: bool = True) -> str:
    """Masked, HTML-escaped text for element content or a quoted attribute."""
    text = mask_message(value) if mask else str(value)
    return html.escape(text, quote=True)


def term(value: object, mask: bool = True) -> str:
    """Masked text for a terminal: control characters shown, not obeyed."""
    text = mask_message(value) if mask else str(value)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


_INLINE = re.compile(r"(`+)(.+?)\1|\\([!-/:-@\[-`{-~])", re.S)


def md_inline_html(text: str) -> str:
    """Inline Markdown that Loupe wrote (code spans and backslash escapes, as ``md``/``md_code``
    produce) as HTML: code spans become ``<code>``, escapes their character, the rest escaped.
    Nothing else is interpreted, so no tag, image or link can come out of it."""
    out, pos = [], 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[pos:match.start()], quote=True))
        if match.group(1):
            code = match.group(2)
            if code.startswith(" ") and code.endswith(" ") and code.strip():
                code = code[1:-1]
            out.append(f"<code>{html.escape(code, quote=True)}</code>")
        else:
            out.append(html.escape(match.group(3), quote=True))
        pos = match.end()
    out.append(html.escape(text[pos:], quote=True))
    return "".join(out)
