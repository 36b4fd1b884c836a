"""nianbao: 政府信息公开工作年度报告 intake forms, checks and batch reports.

The public API; every function takes paths and returns data (it never prints or exits).
"""

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nianbao.build import build_all, render_report
    from nianbao.check import check_file, check_paths
    from nianbao.intake import IntakeData, write_intake
    from nianbao.model import FileReport, Finding, Severity, Submission
    from nianbao.reader import read_workbook
    from nianbao.rules import validate
    from nianbao.schema import DEFAULT_FORMAT, FORMATS
    from nianbao.settings import Settings

# Loaded on first use: ``import nianbao`` (and the command's start) stays instant.
_WHERE = {
    "build_all": "build", "render_report": "build", "check_file": "check", "check_paths": "check",
    "IntakeData": "intake", "write_intake": "intake", "FileReport": "model", "Finding": "model",
    "Severity": "model", "Submission": "model", "read_workbook": "reader", "validate": "rules",
    "DEFAULT_FORMAT": "schema", "FORMATS": "schema", "Settings": "settings",
}

__all__ = [
    "DEFAULT_FORMAT", "FORMATS", "FileReport", "Finding", "IntakeData", "Settings", "Severity",
    "Submission", "build_all", "check_file", "check_paths", "read_workbook", "render_report",
    "validate", "write_intake",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'nianbao' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"nianbao.{module}"), name)
    globals()[name] = value
    return value
