"""nianbao: 政府信息公开工作年度报告 intake forms, checks and batch reports.

The public API; every function takes paths and returns data (it never prints or exits).
"""

__version__ = "0.1.0"

from nianbao.build import build_all, render_report  # noqa: E402 - after __version__
from nianbao.check import check_file, check_paths
from nianbao.intake import IntakeData, write_intake
from nianbao.model import FileReport, Finding, Severity, Submission
from nianbao.reader import read_workbook
from nianbao.rules import validate
from nianbao.schema import DEFAULT_FORMAT, FORMATS
from nianbao.settings import Settings

__all__ = [
    "DEFAULT_FORMAT", "FORMATS", "FileReport", "Finding", "IntakeData", "Settings", "Severity",
    "Submission", "build_all", "check_file", "check_paths", "read_workbook", "render_report",
    "validate", "write_intake",
]
