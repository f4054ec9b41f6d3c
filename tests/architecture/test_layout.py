"""The layout's promises: no import circle anywhere, imports point the allowed way, and only
the redactor makes `RedactedText`."""

from __future__ import annotations

import ast
import re

from tests.architecture.import_graph import (
    PACKAGES,
    ROOT,
    find_cycles,
    import_graph,
    project_modules,
)

# Which top-level package may import which (besides itself).
PACKAGE_DIRECTIONS = {
    "postdesk": {"ingest", "notify", "store"},
    "ingest": {"store"},
    "notify": {"store"},
    "store": set(),
}

# Inside `ingest`, the stages a message meets, and what each may import. A stage reaches back
# only to the ones before it (and to the shared value modules); never forward.
SHARED = {"ingest.model", "ingest.errors", "ingest.options"}
INGEST_DIRECTIONS = {
    "ingest.spool": set(),
    "ingest.listen": {"ingest.spool"},
    "ingest.parse": set(),
    "ingest.classify": {"ingest.parse"},
    "ingest.quotes": {"ingest.parse"},
    "ingest.redact": {"ingest.parse", "ingest.quotes"},
    "ingest.prepare": {"ingest.redact", "ingest.quotes", "ingest.parse"},
    "ingest.analyse": {"ingest.parse", "ingest.classify", "ingest.prepare"},
    "ingest.budget": {"ingest.analyse"},
    "ingest.prestage": {"ingest.analyse", "ingest.budget"},
    "ingest.decide": {
        "ingest.classify",
        "ingest.redact",
        "ingest.prepare",
        "ingest.quotes",
        "ingest.parse",
    },
    "ingest.pipeline": {
        "ingest.analyse",
        "ingest.classify",
        "ingest.decide",
        "ingest.parse",
        "ingest.prepare",
    },
    "ingest.intake": {"ingest.analyse", "ingest.budget", "ingest.pipeline", "ingest.spool"},
    "ingest.worker": {"ingest.analyse", "ingest.prestage", "ingest.spool"},
}


def _unit(module: str) -> str:
    """`ingest.redact.cards` -> `ingest.redact`; `ingest.pipeline` stays itself."""
    return ".".join(module.split(".")[:2])


def test_no_import_circle_anywhere() -> None:
    cycles = find_cycles(import_graph())
    assert cycles == [], f"modules that import each other in a circle: {cycles}"


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    # a module-level import, an import inside a function, and `from package import module`
    assert "ingest.decide.context" in graph["ingest.decide.actions"]
    assert "postdesk.cli.common" in graph["postdesk.cli.main"]  # imported inside main()
    assert "ingest.decide.record" in graph["ingest.decide.create"]  # from ingest.decide import


def test_packages_import_only_the_allowed_way() -> None:
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        for target in targets
        if target.split(".")[0] != module.split(".")[0]
        and target.split(".")[0] not in PACKAGE_DIRECTIONS[module.split(".")[0]]
    )
    assert wrong == []


def test_ingest_stages_import_only_earlier_stages() -> None:
    wrong = []
    for module, targets in import_graph().items():
        unit = _unit(module)
        if unit not in INGEST_DIRECTIONS:
            continue
        allowed = INGEST_DIRECTIONS[unit] | SHARED | {unit}
        for target in targets:
            if target.startswith("ingest.") and _unit(target) not in allowed:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_every_ingest_module_belongs_to_a_known_stage() -> None:
    units = {_unit(m) for m in project_modules() if m.startswith("ingest.")}
    assert units <= set(INGEST_DIRECTIONS) | SHARED


def test_every_package_front_states_its_names() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("__init__.py")
        if "migrations" not in path.parts and "__all__" not in path.read_text()
    ]
    assert missing == []


def test_only_the_redactor_makes_redacted_text() -> None:
    makers = []
    for module, path in project_modules().items():
        if module.startswith("ingest.redact"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "RedactedText"
            ):
                makers.append(f"{module}:{node.lineno}")
    assert makers == []


def test_loggers_are_named_by_module() -> None:
    # a module's own logger, assigned from a hand-written name (quieting a library's is fine)
    named = re.compile(r"^\w+\s*=\s*logging\.getLogger\(\s*[\"']", re.M)
    allowed = {"ingest.listen.smtp_protocol"}  # speaks as aiosmtpd's "mail.log", on purpose
    wrong = [
        module
        for module, path in project_modules().items()
        if module not in allowed and named.search(path.read_text(encoding="utf-8"))
    ]
    assert wrong == []


def test_nothing_cites_a_document_outside_the_repository() -> None:
    pattern = re.compile(r"\bSPEC\b|ARCHITECTURE\.md|notes/outbox_contract")
    places = [
        path
        for folder in (*PACKAGES, "docs", "tests", "bench", "templates")
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and path.suffix in {".py", ".md", ".j2", ".toml"}
    ]
    places += [ROOT / "README.md", ROOT / "config.example.toml"]
    cited = [
        str(p.relative_to(ROOT))
        for p in places
        if p.name != "test_layout.py" and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert cited == []


def test_one_clock() -> None:
    """Everything asks `store.clock.utcnow` (or a clock it was given) for the time."""
    pattern = re.compile(r"datetime\.(?:now|utcnow)\(")
    wrong = [
        module
        for module, path in project_modules().items()
        if module != "store.clock" and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert wrong == []
