"""music/acestep_v1's own import graph: no cycle between its modules, and project modules
imported at the top only (read from the source with `ast`; nothing is imported)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PACKAGE = "music.acestep_v1"
PROJECT = ("music", "lyrics", "studio", "provenance", "bench", "tests")
# The package's PEP 562 export loads the pipeline (torch, diffusers) only when its names are
# used, so that `common` or the lyric front end stay cheap to import.
ALLOWED_LAZY = {("music.acestep_v1", "music.acestep_v1.pipeline")}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    root = REPO / PACKAGE.replace(".", "/")
    return {module_name(path): path for path in sorted(root.rglob("*.py"))}


def imported(tree: ast.AST, known: set[str], here: str, is_package: bool) -> list[tuple[str, ast.AST]]:
    """(module imported, import node) for every import in `tree`; `from a import b` counts as
    `a.b` when that is a module, else `a`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = here.split(".") if is_package else here.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((full if full in known else base, node))
    return found


def graph() -> tuple[dict[str, set[str]], list[str]]:
    """Edges between the package's modules, and every project import not at module top."""
    found = modules()
    known = set(found)
    edges: dict[str, set[str]] = {name: set() for name in found}
    lazy = []
    for name, path in found.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        top = {id(node) for node in tree.body}
        for target, node in imported(tree, known, name, path.name == "__init__.py"):
            if target in known:
                edges[name].add(target)
            is_project = target.split(".")[0] in PROJECT
            if is_project and id(node) not in top and (name, target) not in ALLOWED_LAZY:
                lazy.append(f"{path.relative_to(REPO)}:{node.lineno} imports {target} inside a block")
    return edges, lazy


def test_the_graph_sees_the_package():
    edges, _ = graph()
    assert f"{PACKAGE}.modes.sampler" in edges[f"{PACKAGE}.pipeline"]
    assert f"{PACKAGE}.common" in edges[f"{PACKAGE}.modes.prepare"]
    assert edges[f"{PACKAGE}.common"] == set()  # shared facts import nothing from the project


def test_no_import_cycle_between_v1_modules():
    edges, _ = graph()
    try:
        list(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as err:
        pytest.fail(f"import cycle in {PACKAGE}: {' -> '.join(err.args[1])}")


def test_project_modules_are_imported_at_module_top():
    _, lazy = graph()
    assert lazy == []


def test_a_cycle_would_be_found(tmp_path):
    """The checker itself: a two-module cycle written with relative imports is reported."""
    tree_a = ast.parse("from . import b\n")
    tree_b = ast.parse("def f():\n    from .a import thing\n")
    known = {"pkg.a", "pkg.b"}
    edges = {
        "pkg.a": {t for t, _ in imported(tree_a, known, "pkg.a", False) if t in known},
        "pkg.b": {t for t, _ in imported(tree_b, known, "pkg.b", False) if t in known},
    }
    assert edges == {"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}
    with pytest.raises(graphlib.CycleError):
        list(graphlib.TopologicalSorter(edges).static_order())


SHARED_NAMES = {"InvalidArguments", "NonFiniteError", "parse_seeds", "MODE_ARGUMENTS", "MAX_LYRIC_TOKENS",
                "unknown_structure_tags"}


def test_shared_names_come_from_common_only():
    """`common`'s names are not re-exported by the pipeline, nor imported from it anywhere."""
    pipeline = ast.parse((REPO / "music/acestep_v1/pipeline.py").read_text(encoding="utf-8"))
    exported = next(ast.literal_eval(node.value) for node in pipeline.body if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets))
    assert not SHARED_NAMES & set(exported)
    for path in [p for top in PROJECT for p in (REPO / top).rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "music.acestep_v1.pipeline":
                assert not SHARED_NAMES & {alias.name for alias in node.names}, path
