"""The package layout obeys its layering rule (issue 22): lower stages never import higher ones, and no module
imports itself back through others. Imports are read with `ast`, every one counts: module level, inside
functions, under TYPE_CHECKING. README's Design section lists the same stages."""

from __future__ import annotations

import ast
from pathlib import Path

import scanner

ROOT = Path(scanner.__file__).parent

# lowest first; a module may import its own stage and any lower one
STAGES = [
    ("foundation", ("scanner", "scanner.errors", "scanner.safeio", "scanner.cache")),
    ("rules", ("scanner.rules",)),
    ("engine", ("scanner.engine",)),
    ("findings", ("scanner.findings",)),
    ("sources", ("scanner.sources",)),
    ("verify", ("scanner.verify",)),
    ("report", ("scanner.report",)),
    ("pipeline", ("scanner.pipeline",)),
    ("after-scan", ("scanner.remediate", "scanner.audit", "scanner.serve")),
    ("api", ("scanner.api",)),
    ("cli", ("scanner.cli", "scanner.__main__")),
]


def modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def stage(module: str) -> int:
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(STAGES):
        for p in prefixes:
            exact = p == "scanner"
            if (module == p or (not exact and module.startswith(p + "."))) and len(p) > best:
                best, rank = len(p), i
    assert rank is not None, f"{module} is in no stage: add it to STAGES and README's Design section"
    return rank


def imports() -> dict[str, set[str]]:
    mods = modules()

    def resolve(name: str) -> str:
        while name not in mods and "." in name:
            name = name.rsplit(".", 1)[0]
        return name if name in mods else ""

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {resolve(a.name) for a in node.names if a.name.startswith("scanner")}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[:len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                if base.startswith("scanner"):
                    found |= {resolve(f"{base}.{a.name}") or resolve(base) for a in node.names}
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("__import__", "import_module") \
                    and node.args and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("scanner"):
                found.add(resolve(str(node.args[0].value)))
        graph[name] = found - {name, ""}
    return graph


def test_no_upward_import():
    upward = [f"{a} ({STAGES[stage(a)][0]}) imports {b} ({STAGES[stage(b)][0]})"
              for a, outs in imports().items() for b in outs if stage(b) > stage(a)]
    assert upward == []


def cycles_of(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module: each an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycle():
    assert cycles_of(imports()) == []


def test_the_checker_sees_a_planted_upward_import_and_cycle(tmp_path, monkeypatch):
    """The two tests above can fail: a copy of the package with an engine module importing the CLI."""
    import shutil

    copy = tmp_path / "scanner"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "engine" / "planted.py").write_text("def f():\n    from scanner.cli import planted_back\n")
    (copy / "cli" / "planted_back.py").write_text("import scanner.engine.planted\n")
    monkeypatch.setattr(scanner, "__file__", str(copy / "__init__.py"))
    monkeypatch.setitem(globals(), "ROOT", copy)
    graph = imports()
    assert graph["scanner.engine.planted"] == {"scanner.cli.planted_back"}
    assert stage("scanner.cli.planted_back") > stage("scanner.engine.planted")
    assert ["scanner.cli.planted_back", "scanner.engine.planted"] in cycles_of(graph)


def test_every_stage_is_in_the_readme():
    readme = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    design = readme[readme.index("## Design"):]
    for _, prefixes in STAGES[1:]:
        for p in prefixes:
            path = p.replace(".", "/") + ("/" if (ROOT.parent / p.replace(".", "/")).is_dir() else ".py")
            assert f"`{path}`" in design, f"README's Design section does not list {path}"


def test_modules_over_500_lines_say_why():
    """A module past ~500 lines says in its docstring why it is one module."""
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 520:
            doc = ast.get_docstring(ast.parse(text)) or ""
            assert "One module" in doc or "one module" in doc, f"{name}: {text.count(chr(10))} lines, no reason given"
