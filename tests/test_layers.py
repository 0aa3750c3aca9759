"""The package's layers: no import cycle at run time, imports inside functions included."""

from __future__ import annotations

import subprocess
import sys

import grimp


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle among the package's modules, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if not imported.startswith("hpt_magic"):
                continue
            if state.get(imported) == 1:
                return path[path.index(imported):] + [imported]
            if imported not in state:
                found = visit(imported)
                if found:
                    return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph.modules):
        if module.startswith("hpt_magic") and module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_no_import_cycle_between_modules():
    graph = grimp.build_graph("hpt_magic", exclude_type_checking_imports=True)
    # A package's __init__ re-exports its private modules: an edge from the package to its
    # own children is how Python packages are built, not a cycle between modules.
    for module in list(graph.modules):
        for child in graph.find_children(module):
            if graph.direct_import_exists(importer=module, imported=child):
                graph.remove_import(importer=module, imported=child)
    assert _cycle(graph) is None


def test_import_hpt_magic_loads_no_front_end_library():
    code = ("import sys, hpt_magic; "
            "print(sorted(m for m in ('IPython', 'ipywidgets', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
