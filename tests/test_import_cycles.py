"""The packages import each other without cycles (scripts/import_cycles.py counts every
import: module level, inside functions and under TYPE_CHECKING)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "import_cycles", Path(__file__).resolve().parent.parent / "scripts" / "import_cycles.py"
)
assert _SPEC is not None and _SPEC.loader is not None
import_cycles = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(import_cycles)


def test_no_import_cycles() -> None:
    """No import cycle among schedule, replay, livechat, web and db."""
    assert import_cycles.cycles() == []


def test_counter_sees_imports_inside_functions() -> None:
    """A cycle closed only by an import inside a function is still counted."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles.cycles(graph) == [["a", "b", "c"]]


def test_counter_reads_function_level_imports(tmp_path: Path) -> None:
    """Imports inside functions and under TYPE_CHECKING are edges of the graph."""
    package = tmp_path / "web"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from web import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from web.a import f\n"
    )
    graph = import_cycles.import_graph(tmp_path)
    assert graph["web.a"] == {"web.b"} and graph["web.b"] == {"web.a"}
    assert import_cycles.cycles(graph) == [["web.a", "web.b"]]
