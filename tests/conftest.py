"""Shared fixtures: real workbooks in tmp_path, built through the library itself."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from nianbao.intake import IntakeData, intake_from, write_intake
from nianbao.model import Submission
from nianbao.synth import random_submission, type_into

REPO = Path(__file__).resolve().parent.parent
INPUTS = REPO / "inputs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def make_submission() -> Callable[..., Submission]:
    """A valid random agency; ``seed`` picks which."""

    def make(seed: int = 1, **kw: object) -> Submission:
        return random_submission(random.Random(seed), index=seed, **kw)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_workbook(tmp_path: Path) -> Callable[..., Path]:
    """Write a filled intake workbook; ``edits`` overwrite cells by key after writing.

    ``edits`` = {key: value} for table cells, written where the layout puts them,
    so a test can type anything (text, "/", a wrong total) into any cell.
    """
    counter = iter(range(10**6))

    def make(sub: Submission | None = None, *, name: str | None = None,
             edits: dict[str, object] | None = None, data: IntakeData | None = None) -> Path:
        if data is None:
            sub = sub or random_submission(random.Random(1), index=1)
            data = intake_from(sub)
        path = tmp_path / (name or f"wb{next(counter)}.xlsx")
        write_intake(path, data)
        if edits:
            type_into(path, edits)
        return path

    return make


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind the service supports (see tests/dbkit.py)."""
    from dbkit import fresh_database

    with fresh_database(request.param, tmp_path) as url:
        yield url
