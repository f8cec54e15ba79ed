"""``loupe inspect FILE``: load a table, scan it for personal data, profile it, measure risk.

Everything in an ``InspectionResult`` is safe to print or export: the PII report has no values,
the profile's counts are suppressed below k, k-anonymity holds only group sizes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.datasets.tables import read_table
from core.privacy.anonymity import DEFAULT_K, KAnonymity, LeakWarning, k_anonymity
from core.privacy.profile import Profile, profile_frame
from core.privacy.report import (
    DEFAULT_SAMPLE_ROWS,
    ColumnReport,
    Progress,
    fingerprint_frame,
    scan_frame,
)


def load_table(path: str | Path, encoding: str | None = None) -> pd.DataFrame:
    """The whole table (no row sampling: the scan samples itself), read by the one table reader
    ``core.datasets.tables.read_table`` that ``loupe train`` uses, so both give the same errors."""
    return read_table(path, max_rows=None, encoding=encoding).frame


@dataclass
class InspectionResult:
    """Report + profile + k-anonymity of one table, and where it came from."""

    path: str
    n_rows: int
    n_columns: int
    fingerprint: str
    report: ColumnReport
    profile: Profile
    kanon: KAnonymity
    warnings: list[LeakWarning] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready (``loupe inspect FILE --json``); contains no cell values."""
        return {"path": self.path, "n_rows": self.n_rows, "n_columns": self.n_columns,
                "fingerprint": self.fingerprint, "pii": self.report.to_dict(),
                "profile": self.profile.to_dict(), "k_anonymity": self.kanon.to_dict(),
                "warnings": [w.message for w in self.warnings]}

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)


def inspect_frame(df: pd.DataFrame, path: str = "<frame>", k: int = DEFAULT_K,
                  quasi_identifiers: Sequence[str] | None = None,
                  sample_rows: int | None = DEFAULT_SAMPLE_ROWS, progress: Progress | None = None,
                  overrides: Mapping[str, str] | None = None) -> InspectionResult:
    """Inspect an in-memory table (the dashboard's upload path)."""
    fp = fingerprint_frame(df)
    report = scan_frame(df, sample_rows=sample_rows, progress=progress, overrides=overrides,
                        fingerprint=fp)
    qis = list(quasi_identifiers) if quasi_identifiers is not None else report.quasi_identifiers
    kanon = k_anonymity(df.rename(columns=str), qis, k=k)
    profile = profile_frame(df, report, k=k)
    warnings = list(profile.warnings)
    if qis and not kanon.satisfied:
        warnings.append(LeakWarning(", ".join(qis), "small groups", kanon.summary()))
    return InspectionResult(path=path, n_rows=len(df), n_columns=df.shape[1], fingerprint=fp,
                            report=report, profile=profile, kanon=kanon, warnings=warnings)


def inspect_file(path: str | Path, k: int = DEFAULT_K,
                 quasi_identifiers: Sequence[str] | None = None,
                 sample_rows: int | None = DEFAULT_SAMPLE_ROWS, progress: Progress | None = None,
                 overrides: Mapping[str, str] | None = None,
                 encoding: str | None = None) -> InspectionResult:
    """Load ``path`` and inspect it. Quasi-identifiers default to the ones the scan found."""
    df = load_table(path, encoding)
    return inspect_frame(df, str(path), k=k, quasi_identifiers=quasi_identifiers,
                         sample_rows=sample_rows, progress=progress, overrides=overrides)


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]


def format_inspection(result: InspectionResult) -> str:
    """A person-readable terminal summary (no raw values)."""
    rep = result.report
    out = [f"{result.path}: {result.n_rows:,} rows x {result.n_columns} columns",
           f"fingerprint {result.fingerprint[:16]}…   {rep.note}", ""]
    prof = result.profile.columns.set_index("column")
    rows = []
    for c in rep.columns:
        p = prof.loc[c.name] if c.name in prof.index else None
        ents = ", ".join(f"{e.entity} {e.share:.0%}" for e in c.entities[:3]) or "-"
        if len(c.entities) > 3:
            ents += f" +{len(c.entities) - 3} more"
        missing = f"{p['missing_share']:.0%}" if p is not None else "-"
        distinct = f"{int(p['distinct']):,}" if p is not None else "-"
        ptype = p["type"] if p is not None else "-"
        rows.append([c.name, ptype, missing, distinct, c.role, ents,
                     f"{c.confidence:.2f}" if c.role != "none" else ""])
    out += _table(rows, ["column", "type", "missing", "distinct", "role", "PII found", "conf"])
    out += ["", f"Direct identifiers: {', '.join(rep.direct_identifiers) or 'none'}",
            f"Quasi-identifiers: {', '.join(rep.quasi_identifiers) or 'none'}",
            result.kanon.summary() if result.kanon.quasi_identifiers else
            "k-anonymity: no quasi-identifiers found."]
    if result.warnings:
        out += ["", "Warnings:"] + [f"  - {w.message}" for w in result.warnings]
    out += ["", "Privacy mode is on: direct identifiers and detected values are masked in every "
            "view and export until you unmask them (each unmask is audited)."]
    return "\n".join(out)
