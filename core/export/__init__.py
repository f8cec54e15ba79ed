"""Everything that leaves Loupe about a run: the model folder export, its model card and the
self-contained HTML report.

- ``bundle``: the export itself (``export_run``, ``collect_export``, zip or folder, pickles left out,
  JSON configs masked through the task's ``mask_artifact_config``);
- ``model_card`` and ``card_facts``: the Markdown card and the facts it reads off a run;
- ``report_html``: the HTML report, drawn with the dashboard's figure builders (``core.plots``).
"""

from core.export.bundle import (
    CARD_NAME,
    PICKLE_SUFFIXES,
    ExportBundle,
    check_export_target,
    collect_export,
    export_model_dir,
    export_model_folder,
    export_model_zip,
    export_run,
    is_pickle,
    is_zip_target,
    load_report,
    mask_json,
    zip_bytes,
)
from core.export.card_facts import TOKENIZER_PREFIXES
from core.export.model_card import write_model_card
from core.export.report_html import build_html_report, write_html_report

__all__ = [
    "CARD_NAME", "PICKLE_SUFFIXES", "TOKENIZER_PREFIXES", "ExportBundle", "build_html_report",
    "check_export_target", "collect_export", "export_model_dir", "export_model_folder",
    "export_model_zip", "export_run", "is_pickle", "is_zip_target", "load_report", "mask_json",
    "write_html_report", "write_model_card", "zip_bytes",
]
