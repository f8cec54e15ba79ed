"""Explanations cached in the run store (table ``explanations``), across sessions and restarts.

Key: run id, input fingerprint, method, and the method's parameters as canonical JSON (sorted
keys, no spaces) — plus the sha256 of the run's model artifact, so a resumed or retrained run
never serves an explanation of older weights.

Privacy: the fingerprint is an HMAC-SHA256 of the raw input bytes keyed with the install's
secret (``core.privacy.secret_key``): it identifies the same input again, but a short personal
value (an e-mail address typed as a text) cannot be recovered by hashing guesses. The stored
``input_masked`` is the masked text, the masked row, or an image's file name; results hold only
masked tokens and values. Raw personal data is never written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from core.explain.result import Explanation
from core.store import RunStore

MAX_INPUT_CHARS = 2000  # the stored masked input is a label for humans, not the input itself


def input_fingerprint(raw: bytes | str, store: RunStore) -> str:
    """Keyed sha256 of the raw input (text as UTF-8, image file bytes, canonical row JSON)."""
    from core.privacy import secret_key

    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    return hmac.new(secret_key(store.home), data, hashlib.sha256).hexdigest()


def canonical_params(params: dict[str, Any]) -> str:
    """Canonical JSON: sorted keys, compact separators, tuples as lists."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


def model_version(store: RunStore, run_id: str) -> str:
    """The sha256 of the run's saved model ('' when the store has none recorded)."""
    frame = store.artifacts(run_id)
    rows = frame[frame["kind"] == "model"]
    return str(rows["sha256"].iloc[0] or "")[:16] if len(rows) else ""


class ExplanationCache:
    """Read and write cached explanations through ``RunStore.connect`` (short-lived connections)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def get(self, run_id: str, fingerprint: str, method: str, params: dict[str, Any]
            ) -> Explanation | None:
        with self.store.connect() as con:
            row = con.execute(
                "SELECT result_json FROM explanations WHERE run_id=? AND input_fingerprint=? "
                "AND method=? AND params_json=? ORDER BY created_at DESC LIMIT 1",
                [run_id, fingerprint, method, canonical_params(params)],
            ).fetchone()
        if row is None:
            return None
        try:
            explanation = Explanation.from_json(row[0])
        except (ValueError, KeyError, TypeError):
            return None  # written by an older format: recompute rather than fail
        explanation.from_cache = True
        return explanation

    def put(self, explanation: Explanation, fingerprint: str, method: str, params: dict[str, Any],
            input_masked: str) -> None:
        key = [explanation.run_id, fingerprint, method, canonical_params(params)]
        with self.store.connect() as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM explanations WHERE run_id=? AND input_fingerprint=? "
                        "AND method=? AND params_json=?", key)
            con.execute(
                "INSERT INTO explanations (run_id, input_fingerprint, method, params_json, "
                "input_masked, result_json, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                key + [input_masked[:MAX_INPUT_CHARS], explanation.to_json(),
                       float(explanation.seconds), datetime.now()],
            )
            con.execute("COMMIT")

    def list(self, run_id: str | None = None) -> pd.DataFrame:
        """Cached explanations (no results): run, method, params, masked input, seconds, time."""
        where, params = ("WHERE run_id=?", [run_id]) if run_id else ("", [])
        with self.store.connect() as con:
            return con.execute(
                "SELECT run_id, method, params_json, input_masked, seconds, created_at "
                f"FROM explanations {where} ORDER BY created_at DESC", params).df()

    def clear(self, run_id: str | None = None) -> int:
        where, params = ("WHERE run_id=?", [run_id]) if run_id else ("", [])
        with self.store.connect() as con:
            count = con.execute(f"SELECT count(*) FROM explanations {where}", params).fetchone()[0]
            con.execute(f"DELETE FROM explanations {where}", params)
        return int(count)


def cached(store: RunStore, run_id: str, method: str, raw: bytes | str, params: dict[str, Any],
           input_masked: str, compute: Callable[[], Explanation], use_cache: bool = True
           ) -> Explanation:
    """Serve ``compute()``'s explanation from the cache when it is there; otherwise compute,
    time and store it. ``params`` must hold every setting that changes the result."""
    from core.output import mask_message

    input_masked = mask_message(input_masked)  # column and file names in it are data too
    cache = ExplanationCache(store)
    key_params = {**params, "_model": model_version(store, run_id)}
    fingerprint = input_fingerprint(raw, store)
    if use_cache:
        hit = cache.get(run_id, fingerprint, method, key_params)
        if hit is not None:
            return hit
    start = time.perf_counter()
    explanation = compute().masked()  # what is cached (and returned) has passed the boundary
    explanation.seconds = time.perf_counter() - start
    explanation.params = dict(params)
    if not explanation.input_label:
        explanation.input_label = input_masked[:200]
    cache.put(explanation, fingerprint, method, key_params, input_masked)
    return explanation
