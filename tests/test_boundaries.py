"""The package boundaries of DESIGN.md, read from the source with `ast` (nothing is imported):
`lyrics`, `music` and `provenance` never import `studio` or each other, and no two project
modules import each other, directly or round a longer loop, not even inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("studio", "lyrics", "music", "provenance")
STAGES = ("lyrics", "music", "provenance")  # the three stages: each stands alone


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = REPO, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    return {module_name(path, root): path for package in packages for path in sorted((root / package).rglob("*.py"))}


def imported_modules(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> list[tuple[str, int]]:
    """The project modules an import statement names (anywhere in the file), with its line.
    A submodule's parent packages are not counted, however it is spelled: `import a.b` and
    `from a import b` (b a module) both name `a.b`; `from a import f` (f not a module) names `a`."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                names.append((submodule if submodule in known else target, node.lineno))
    return [(name, line) for name, line in names if name in known and name != module]


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {project module it imports: first line}."""
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: dict[str, int] = {}
        for name, line in imported_modules(tree, module, path.name == "__init__.py", known):
            edges.setdefault(name, line)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def forbidden_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    """'a.b:LINE imports c.d' for each import that crosses a stage boundary."""
    problems = []
    for module, edges in graph.items():
        top = module.split(".")[0]
        if top not in STAGES:
            continue
        for target, line in edges.items():
            other = target.split(".")[0]
            if other != top:
                problems.append(f"{module.replace('.', '/')}.py:{line} imports {target}")
    return sorted(problems)


def test_the_stages_never_import_studio_or_each_other():
    assert forbidden_imports(import_graph(project_modules())) == []


def test_no_import_cycle_between_project_modules():
    graph = import_graph(project_modules())
    found = cycles(graph)
    described = [" -> ".join(component) for component in found]
    assert described == [], "import cycles (each list is one loop of modules importing each other)"


# -- the checks themselves catch what they are for --------------------------------------------


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize("source", [
    "import studio.tables",
    "from studio import tables",
    "def late():\n    from music.engine import MusicEngine\n",
    "from ..music import engine",
])
def test_a_stage_importing_studio_or_another_stage_is_found(tmp_path, source):
    write_tree(tmp_path, {
        "studio/__init__.py": "", "studio/tables.py": "",
        "music/__init__.py": "", "music/engine.py": "",
        "lyrics/__init__.py": "", "lyrics/format.py": source,
        "provenance/__init__.py": "",
    })
    problems = forbidden_imports(import_graph(project_modules(tmp_path)))
    assert problems and all(problem.startswith("lyrics/format.py:") for problem in problems)


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    write_tree(tmp_path, {
        "music/__init__.py": "",
        "music/pipeline.py": "from music.runner import run\n",
        "music/runner.py": "from music import modes\n",
        "music/modes.py": "def later():\n    from .pipeline import Call\n",
        "music/alone.py": "import music.pipeline\n",
        "studio/__init__.py": "", "lyrics/__init__.py": "", "provenance/__init__.py": "",
    })
    assert cycles(import_graph(project_modules(tmp_path))) == [["music.modes", "music.pipeline", "music.runner"]]


def test_a_package_importing_its_own_submodules_is_no_cycle(tmp_path):
    write_tree(tmp_path, {
        "music/__init__.py": "from music.engine import MusicEngine\n",
        "music/engine.py": "import numpy\n",
        "music/v1/__init__.py": "from .engine import V1\n",
        "music/v1/engine.py": "from music.engine import MusicEngine\n",
        "studio/__init__.py": "", "lyrics/__init__.py": "", "provenance/__init__.py": "",
    })
    assert cycles(import_graph(project_modules(tmp_path))) == []
