"""The layout of docs/architecture.md holds: imports point one way, no cycles, small modules, one role table.

These read the source, not the running system, so they need no database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
APPS = ("console", "moderation", "accounts")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_MODULE_LINES = 500


def run_lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / ".importlinter")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_apps(target: Path) -> None:
    """Copy the three apps and the import contracts, to plant a wrong import in the copy."""
    for app in APPS:
        shutil.copytree(ROOT / app, target / app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", target / ".importlinter")


def source_files() -> list[Path]:
    return [path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


def test_the_import_contracts_hold():
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_wrong_way_import_breaks_the_build(tmp_path):
    copy_apps(tmp_path)
    payloads = tmp_path / "moderation" / "queries" / "payloads.py"
    payloads.write_text(payloads.read_text() + "\nfrom console import urls  # noqa: E402, F401\n")

    result = run_lint_imports(tmp_path)

    assert result.returncode != 0
    assert "moderation is not allowed to import console" in result.stdout
    assert "moderation.queries.payloads -> console.urls" in result.stdout


def test_an_action_importing_a_task_breaks_the_build(tmp_path):
    copy_apps(tmp_path)
    cuts = tmp_path / "moderation" / "actions" / "cuts.py"
    cuts.write_text(cuts.read_text() + "\nfrom moderation.tasks.cuts import retry_cut  # noqa: E402, F401\n")

    result = run_lint_imports(tmp_path)

    assert result.returncode != 0
    assert "Actions import no views, API, consumers or tasks BROKEN" in result.stdout


def test_no_module_imports_itself_back_through_others():
    """No import cycles, counting imports inside functions too (grimp reads every import statement)."""
    sys.path.insert(0, str(ROOT))
    try:
        graph = grimp.build_graph(*APPS, cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))
    cycles = strongly_connected_components(graph)
    assert cycles == [], f"import cycles: {cycles}"


def strongly_connected_components(graph) -> list[list[str]]:
    """Return the groups of modules that import each other in a ring (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = lowlink[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = lowlink[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    lowlink[module] = min(lowlink[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[module])
            if lowlink[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_ring():
    class Ring:
        modules = {"a", "b", "c", "d"}
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.edges[module]

    assert strongly_connected_components(Ring()) == [["a", "b", "c"]]


def test_no_module_passes_500_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in source_files()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_roles_per_capability_are_listed_only_in_the_permission_table():
    """Pages, the API, the consumer and the actions ask moderation.permissions; none names a role itself."""
    allowed = {ROOT / "moderation" / "permissions.py", ROOT / "accounts" / "roles.py"}
    # The demo seed gives each demo account its role: data, not a rule.
    allowed.add(ROOT / "moderation" / "management" / "commands" / "seed_demo.py")
    naming_a_role = re.compile(r"\bRole\.[A-Z_]+\b|\bMACHINE_(PLATFORM|REVIEW)\b")
    offenders = {
        str(path.relative_to(ROOT))
        for path in source_files()
        if path not in allowed and "migrations" not in path.parts and naming_a_role.search(path.read_text())
    }
    assert offenders == set()
