"""The upload history on Data and Predict: a new file joins the kept uploads, and the picker offers
every kept upload of a type the page reads (newest first) until the user deletes it.

The uploader widget empties when the user leaves the page; the picked upload does not: it is kept
under a plain session key (which survives page switches) and in the store (which survives the
session), so coming back shows the same data, and a second upload never hides the first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import streamlit as st

from core.store.uploads import Upload, delete_upload, human_bytes
from dashboard.resources import discard_upload, get_store, kept_uploads, save_upload

PICKED = "picked_uploads"  # scope -> upload id (a plain key: kept when the page is left)
SEEN = "seen_uploads"  # scope -> sha256 of the file last taken from the uploader


def suffixes(types: Sequence[str]) -> tuple[str, ...]:
    """File types as the uploader takes them ("csv") -> suffixes (".csv")."""
    return tuple(f".{t.lower().lstrip('.')}" for t in types)


def pick_upload(scope: str, types: Sequence[str], new: Any = None, newest: bool = True) -> Upload | None:
    """The kept upload the user works with on this page (``scope``): ``new`` (the uploader's file)
    when one just arrived, else the one picked before, else the newest (with ``newest``; else
    none until the user picks one); None when there is none."""
    picked: dict[str, str] = st.session_state.setdefault(PICKED, {})
    seen: dict[str, str] = st.session_state.setdefault(SEEN, {})
    if new is not None:
        data = new.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        if seen.get(scope) != f"{new.name}:{digest}":  # a file the uploader has not handed over yet
            path = save_upload(new.name, data)
            seen[scope] = f"{new.name}:{digest}"
            picked[scope] = next(u.id for u in kept_uploads() if u.path == path)
    uploads = kept_uploads(suffixes(types))
    if not uploads:
        return None
    ids = [u.id for u in uploads]
    by_id = {u.id: u for u in uploads}
    current = picked.get(scope) if picked.get(scope) in by_id else ids[0] if newest else None
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        f"Your uploads ({len(uploads)})", ids, index=ids.index(current) if current else None,
        format_func=lambda i: by_id[i].label(), key=f"upload_pick_{scope}_{current}",
        placeholder="Upload a file above, or pick one you uploaded before",
        help="Every file you upload is kept (masked name · size · SHA-256 fingerprint · when) "
             "and offered on Data, Train and Predict until you delete it.")
    if chosen is None:
        return None
    picked[scope] = chosen
    if right.button("Delete", icon=":material/delete:", key=f"upload_delete_{scope}_{chosen}",
                    help="Remove this upload's file from Loupe's folder and from the list."):
        delete_upload(get_store(), chosen)
        picked.pop(scope, None)
        st.toast(f"Deleted {by_id[chosen].name} ({human_bytes(by_id[chosen].bytes)}).")
        st.rerun()
    return by_id[chosen]


def drop_unreadable(scope: str, upload: Upload) -> None:
    """Forget an upload that could not be read; the uploader's file is taken again on the next run
    (e.g. once the right text encoding is chosen), unlike one the user deleted."""
    discard_upload(upload.path)
    st.session_state.setdefault(SEEN, {}).pop(scope, None)
