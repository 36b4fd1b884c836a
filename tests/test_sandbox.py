"""A template from a workspace cannot read files, reach Python internals or run code."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import docx
import pytest

from nianbao.build import Status, build_all, default_template
from nianbao.context import build_context, sample_submission
from nianbao.engine import Template
from nianbao.errors import TemplateError

EVIL = [
    "{{ cycler.__init__.__globals__.os.getpid() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].system('touch PWNED') }}",
    "{{ namespace.__init__.__globals__ }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{{ range.__self__ }}",
    "{{ agency.__class__.__base__.__subclasses__() }}",
    "{% for x in range(10**9) %}{% endfor %}",
    "{{ 1 / 0 }}",
]


def _template(path: Path, text: str) -> Path:
    document = docx.Document(str(default_template()))
    document.add_paragraph(text)
    document.save(str(path))
    return path


@pytest.mark.parametrize("text", EVIL, ids=range(len(EVIL)))
def test_sandbox_refuses_template(tmp_path, text, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    context = build_context(sample_submission())

    with pytest.raises(TemplateError):
        Template.load(_template(tmp_path / "evil.docx", text)).render(context)

    assert not (tmp_path / "PWNED").exists()


def test_sandbox_build_with_evil_template_writes_nothing_and_runs_nothing(
        tmp_path, make_submission, make_workbook, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(make_workbook(make_submission(1)), src / "a.xlsx")
    evil = _template(tmp_path / "evil.docx",
                     "{{ lipsum.__globals__['os'].system('touch PWNED') }}")

    try:
        summary = build_all([src], tmp_path / "out", template=evil, jobs=1)
    except TemplateError:
        summary = None

    assert not (tmp_path / "PWNED").exists()
    if summary is not None:  # the template compiled: every agency failed, none written
        assert {o.status for o in summary.outcomes} == {Status.FAILED}
        assert list((tmp_path / "out").glob("*.docx")) == []


def test_sandbox_values_with_jinja_syntax_are_data(tmp_path) -> None:
    sub = sample_submission()
    import dataclasses

    sub = dataclasses.replace(sub, agency="{{ 7*7 }}{% if 1 %}x{% endif %}",
                              narrative={"s1": ("{{ cycler.__init__.__globals__ }}",),
                                         "s5": ("<w:p>&amp;",), "s6": ("\x0b\x01正常",)})
    data = Template.load(default_template()).render(build_context(sub))
    path = tmp_path / "r.docx"
    path.write_bytes(data)

    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)

    assert "{{ 7*7 }}{% if 1 %}x{% endif %}" in text and "49" not in text.split("{{")[0]
    assert "{{ cycler.__init__.__globals__ }}" in text
    assert "<w:p>&amp;" in text and "正常" in text
    assert os.path.getsize(path) > 0
