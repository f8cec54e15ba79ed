"""Everything kind-specific lives with the kind: no task-kind name comparison and no table keyed by
kind names outside ``core/tasks/``, ``core/explain/<kind>…`` and ``dashboard/kinds/``.

Found by reading the code (``ast``), per top-level folder:
- a comparison (``==``, ``!=``, ``in``, ``not in``, ``match/case``) between a registered kind name
  (``core.tasks.task_kinds()``) and something called ``kind``/``task`` (a name, an attribute
  ``x.kind``/``x.task``, or a subscript ``run["task"]``);
- a dict literal (or ``dict(...)`` call) with two or more kind names among its keys, also as parts
  of tuple keys such as ``("text", "shap")``, or a named table keyed by one (``X = {"image": ...}``);
- a tuple, list or set literal of two or more kind names (``for kind in ("text", "image")``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.tasks import task_kinds

ROOT = Path(__file__).resolve().parents[2]
KIND_WORDS = {"kind", "task"}


def _allowed(path: Path, kinds: set[str]) -> bool:
    """The kind's own places: the task registry, its explainer modules, its dashboard module."""
    rel = path.relative_to(ROOT).parts
    if rel[:2] in (("core", "tasks"), ("dashboard", "kinds")):
        return True
    if rel[:2] == ("core", "explain") and len(rel) > 2:  # core/explain/<kind>.py, shap_<kind>.py, <kind>/
        return bool(kinds & set(Path(rel[2]).stem.split("_")))
    return False


def _names_kind(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in KIND_WORDS
    if isinstance(node, ast.Attribute):
        return node.attr in KIND_WORDS
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and key.value in KIND_WORDS
    return False


def _kind_constants(node: ast.AST, kinds: set[str]) -> list[str]:
    """Kind names a node spells: a string constant, or the items of a tuple/list/set of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in kinds:
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [name for item in node.elts for name in _kind_constants(item, kinds)]
    return []


def offences(source: str, kinds: set[str]) -> list[tuple[int, str]]:
    """(line, what) for every kind-name comparison and kind-keyed table in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            for a, b in zip(sides, sides[1:], strict=False):
                for one, other in ((a, b), (b, a)):
                    names = _kind_constants(one, kinds)
                    if names and _names_kind(other):
                        found.append((node.lineno, f"compares a kind with {names[0]!r}"))
        elif isinstance(node, ast.Match) and _names_kind(node.subject):
            for case in node.cases:
                for pattern in ast.walk(case.pattern):
                    if isinstance(pattern, ast.MatchValue) and _kind_constants(pattern.value, kinds):
                        found.append((pattern.lineno, "matches a kind name"))
        elif isinstance(node, ast.Dict):
            keys = {name for key in node.keys if key is not None for name in _kind_constants(key, kinds)}
            if len(keys) >= 2:
                found.append((node.lineno, f"a table keyed by kind names {sorted(keys)}"))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict):
            keys = node.value.keys  # a named table keyed by one kind name: {"image": [...]}
            names = _kind_constants(keys[0], kinds) if len(keys) == 1 and keys[0] is not None else []
            if names:
                found.append((node.lineno, f"a table keyed by kind name {names[0]!r}"))
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            names = {name for item in node.elts for name in _kind_constants(item, kinds)
                     if isinstance(item, ast.Constant)}
            if len(names) >= 2:
                found.append((node.lineno, f"a list of kind names {sorted(names)}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            keys = {kw.arg for kw in node.keywords if kw.arg in kinds}
            if len(keys) >= 2:
                found.append((node.lineno, f"a table keyed by kind names {sorted(keys)}"))
    return sorted(set(found))


def _report(folder: str) -> list[str]:
    kinds = set(task_kinds())
    out = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        if _allowed(path, kinds):
            continue
        for line, what in offences(path.read_text(encoding="utf-8"), kinds):
            out.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    return out


@pytest.mark.parametrize("folder", [
    "core",
    "dashboard",
])
def test_kind_specific_code_lives_with_its_kind(folder: str) -> None:
    found = _report(folder)
    assert not found, ("kind-specific code outside core/tasks, core/explain/<kind> and "
                       "dashboard/kinds (move it into the kind's Task, Explainer or dashboard "
                       "module):\n" + "\n".join(found))


def test_the_check_finds_each_pattern() -> None:
    """Each pattern is caught (so a green result means something) and look-alikes are not."""
    kinds = {"text", "image", "tabular"}
    caught = offences('''
if kind == "text": pass
if run["task"] != "image": pass
if "tabular" == self.kind: pass
if task in ("text", "image"): pass
LABELS = {"text": 1, "image": 2}
PAIRS = {("tabular", "shap"): "a", ("text", "shap"): "b"}
KEYS = dict(text=1, tabular=2)
match kind:
    case "image": pass
WORST = {k: "wrong" for k in ("text", "image")}
BATCH: dict[str, list[str]] = {"image": ["zip"]}
''', kinds)
    assert sorted({line for line, _ in caught}) == [2, 3, 4, 5, 6, 7, 8, 10, 11, 12]
    assert offences('''
if column_kind == "text": pass
if mode == "image": pass
SINGLE = {"text": 1, "other": 2}
NAMES = ("text", "review", "body")
if kind == "value": pass
send({"text": masked})
''', kinds) == []
