"""The output boundary: everything Loupe writes or prints goes through here.

``masking`` decides what a value may look like once it leaves the process (text masked, machine
fields kept, paths relative to LOUPE_HOME); ``escape`` makes it inert where it goes (Markdown,
HTML, terminal); ``files`` decides where it may land (no silent overwrite, clear path errors,
atomic writes, CSV formula neutralisation). See docs/security.md for the table of threats.
"""

from core.output.escape import html_text, md, md_code, md_inline_html, term
from core.output.files import (
    FORMULA_PREFIXES,
    TABLE_SUFFIXES,
    atomic_dir,
    atomic_write,
    check_new_dir,
    check_output,
    check_outputs,
    csv_bytes,
    csv_safe,
    neutralise_cell,
    table_bytes,
    write_table,
)
from core.output.masking import (
    is_machine_key,
    mask_data,
    mask_label,
    mask_message,
    mask_names,
    mask_table,
    shell_path,
    show_path,
    show_source,
)

__all__ = [
    "FORMULA_PREFIXES", "TABLE_SUFFIXES", "atomic_dir", "atomic_write", "check_new_dir", "check_output",
    "check_outputs", "csv_bytes", "csv_safe", "html_text", "is_machine_key", "mask_data",
    "mask_label", "mask_message", "mask_names", "mask_table", "md", "md_code", "md_inline_html",
    "neutralise_cell", "shell_path", "show_path", "show_source", "table_bytes", "term", "write_table",
]
