"""Exceptions meaning "nianbao could not run" (never "the numbers are wrong").

Bad data is reported as findings; these are for an unreadable workbook or a
template that cannot be loaded or rendered.  Messages are plain Chinese for the
person running the tool.
"""

from __future__ import annotations


class NianbaoError(Exception):
    """Root of every error nianbao raises on purpose."""


class WorkbookError(NianbaoError):
    """A workbook cannot be read at all (not an xlsx, not an intake form, wrong version)."""


class TemplateError(NianbaoError):
    """A Word template cannot be loaded, compiled or rendered."""


class OutputError(NianbaoError):
    """The output folder cannot be created or written."""
