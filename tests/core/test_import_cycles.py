"""No import circle among core modules, and every core module imports.

The graph holds module-level imports only (an ``import`` inside a function runs when the function
is called, after every module is loaded, so it cannot form a circle at import time). Edges point
at the imported module: ``from core.cli.output import emit`` -> core.cli.output, ``from core.cli
import train`` -> core.cli.train (a submodule) or core.cli (a name defined in the package).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import core

ROOT = Path(core.__file__).resolve().parent


def modules_under(root: Path) -> dict[str, Path]:
    """Dotted name -> file of every module under the package ``root`` (packages by __init__.py)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def core_modules() -> dict[str, Path]:
    return modules_under(ROOT)


def _module_level(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module loads: top level and inside top-level if/try/with blocks,
    not inside functions or classes (``if TYPE_CHECKING:`` blocks never run, so they are skipped)."""
    out: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                todo += handler.body
        elif isinstance(node, (ast.With, ast.For, ast.While)):
            todo += node.body
    return out


def import_graph(modules: dict[str, Path], lazy_too: bool = False) -> dict[str, set[str]]:
    """Module -> the modules it imports at module level (``lazy_too``: inside functions as well)."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(), str(path))
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))] \
            if lazy_too else _module_level(tree)
        for node in nodes:
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for target in targets:
                while target and target not in modules:  # `import core.x.y` of a name in core.x
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (iterative depth-first search, three colours)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_cycle_finder_finds_a_cycle_and_resolves_imports(tmp_path: Path) -> None:
    """The checker itself: a planted circle (relative and absolute imports) is found and named."""
    pkg = tmp_path / "core"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .b import thing\n")
    (pkg / "a.py").write_text("from core.sub import b\n\ndef f():\n    import core.c\n")
    (pkg / "sub" / "b.py").write_text("import typing\nfrom ..a import x\nthing = 1\n")
    (pkg / "c.py").write_text("import core.a\n")
    graph = import_graph(modules_under(pkg))
    assert graph["core.a"] == {"core.sub.b"}  # the function-level import is not an edge
    assert graph["core.sub.b"] == {"core.a"} and graph["core.c"] == {"core.a"}
    assert find_cycle(graph) in (["core.a", "core.sub.b", "core.a"], ["core.sub.b", "core.a", "core.sub.b"])
    graph["core.sub.b"] = set()  # break the circle: none left
    assert find_cycle(graph) is None
    assert import_graph(modules_under(pkg), lazy_too=True)["core.a"] == {"core.sub.b", "core.c"}


def test_no_import_cycle_among_core_modules() -> None:
    modules = core_modules()
    assert {"core.cli", "core.cli.output", "core.config", "core.settings"} <= set(modules)
    cycle = find_cycle(import_graph(modules))
    assert cycle is None, "import cycle among core modules: " + " -> ".join(cycle or [])


def test_the_cli_has_no_circle_even_through_lazy_imports() -> None:
    """The old core/cli*.py files closed their circle through a function-level import (cli.main
    imported cli_commands, which imported cli); the package's modules must not, lazily or not."""
    cli = {n: p for n, p in core_modules().items() if n == "core.cli" or n.startswith("core.cli.")}
    graph = {n: {t for t in edges if t in cli} for n, edges in import_graph(core_modules(), True).items()
             if n in cli}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in core.cli: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("name", [n for n in core_modules() if not n.endswith("__main__")])
def test_every_core_module_imports(name: str) -> None:
    importlib.import_module(name)


def _loaded_after(statement: str) -> list[str]:
    """Heavy libraries loaded by ``statement`` in a fresh interpreter (nothing loaded before)."""
    import subprocess
    import sys

    code = (f"import sys\n{statement}\n"
            "print(sorted(m for m in ('torch', 'pandas', 'numpy', 'duckdb', 'shap', 'transformers',"
            " 'streamlit', 'accelerate') if m in sys.modules))")
    return ast.literal_eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               cwd=ROOT.parent, check=True).stdout)


def test_loupe_help_does_not_load_the_ml_stack() -> None:
    """`loupe --help` builds the whole parser: no torch, store or model libraries load for it."""
    loaded = _loaded_after("from core.cli import build_parser\nbuild_parser().format_help()")
    # numpy and pandas come with core.cli.explain's module-level `core.output` import.
    assert set(loaded) <= {"numpy", "pandas"}, loaded


def test_command_modules_leave_heavy_imports_to_their_handlers() -> None:
    modules = ", ".join(n.rpartition(".")[2] for n in core_modules()
                        if n.startswith("core.cli.") and n not in ("core.cli.explain", "core.cli.__main__"))
    assert _loaded_after(f"from core.cli import {modules}\nimport core.settings, core.config") == []
