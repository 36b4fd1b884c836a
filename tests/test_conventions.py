"""Project conventions, enforced: thin CLI, no click in the library, help with examples, lint."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from nianbao.cli import main

SRC = Path(__file__).resolve().parent.parent / "src" / "nianbao"
CLI_MODULES = {"cli.py", "cli_cycle.py", "cli_import.py", "cli_serve.py", "cli_register.py",
               "cli_zh.py", "__main__.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")


def test_conventions_library_never_imports_click() -> None:
    offenders = [p.name for p in SRC.glob("*.py")
                 if p.name not in CLI_MODULES and "click" in _imports(p)]

    assert offenders == []


def test_conventions_cli_does_not_touch_files_formats_directly() -> None:
    for name in CLI_MODULES:
        assert not {"openpyxl", "docxtpl", "python_calamine", "docx"} & _imports(SRC / name), name


def test_conventions_library_never_prints_or_exits() -> None:
    offenders = []
    for path in SRC.glob("*.py"):
        if path.name in CLI_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                    node.func.id in ("print", "exit", "quit")):
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "exit" and isinstance(
                    node.value, ast.Name) and node.value.id == "sys":
                offenders.append(f"{path.name}:{node.lineno}")
    # template_builder is a developer script; its __main__ block may print
    assert [o for o in offenders if not o.startswith("template_builder.py")] == []


def test_conventions_every_command_has_chinese_help_with_an_example() -> None:
    for name, command in _commands(main):
        if isinstance(command, click.Group):
            assert command.help, name
            continue
        assert command.help and re.search(r"[\u4e00-\u9fff]", command.help), name
        assert "示例" in command.help, name


def test_conventions_intake_format_coordinates_only_in_layout() -> None:
    address = re.compile(r"""["']\$?[A-Z]{1,3}\$?\d{1,5}(:\$?[A-Z]{1,3}\$?\d{1,5})?["']""")
    for name in ("intake.py", "reader.py", "rules.py", "check.py", "context.py", "engine.py",
                 "html.py", "template_builder.py", "build.py", "previous.py"):
        text = (SRC / name).read_text("utf-8")
        found = [m.group(0) for m in address.finditer(text)
                 if not re.fullmatch(r"[\"'][0-9A-F]{6}[\"']", m.group(0))]  # colours
        assert found == [], name


def test_conventions_rule_codes_are_kebab_case() -> None:
    codes = set()
    for path in SRC.glob("*.py"):
        codes |= set(re.findall(r'code="([^"]+)"', path.read_text("utf-8")))
        codes |= set(re.findall(r'^\s+[A-Z_]+ = "([a-z0-9-]+)"\s+#', path.read_text("utf-8"),
                                re.M))
    assert codes
    assert [c for c in codes if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c)] == []


def test_conventions_every_rule_code_is_documented_in_readme() -> None:
    readme = (SRC.parent.parent / "README.md").read_text("utf-8")
    from nianbao.schema import GB2021
    from nianbao.values import Issue

    codes = {str(i) for i in Issue} | {s.code for s in GB2021.sums} | {
        b.code for b in GB2021.balances}
    assert [c for c in sorted(codes) if f"`{c}`" not in readme] == []


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_conventions_lint_and_types_are_clean(tool: str) -> None:
    exe = Path(sys.executable).parent / tool
    if not exe.exists() and not shutil.which(tool):
        pytest.skip(f"{tool} not installed (pip install -e '.[dev]')")
    args = {"ruff": ["check", "src", "tests", "bench"], "mypy": []}[tool]

    result = subprocess.run([str(exe if exe.exists() else tool), *args], capture_output=True,
                            text=True, cwd=SRC.parent.parent, check=False)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
