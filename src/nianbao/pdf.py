"""PDF copies of the reports through LibreOffice headless, after every .docx is on disk.

Each worker has its own LibreOffice profile (two instances sharing one cannot
run at once) holding a small Basic macro (``data/convert.bas``): one ``soffice``
loads every document of a batch, switches off hanging punctuation (LibreOffice
ignores the .docx's ``w:overflowPunct="0"`` and drops a mark hung at the end of
a justified line) and exports the PDF.  Documents the macro did not convert go
through plain ``soffice --convert-to pdf``.  Every PDF is moved to its place as
soon as it is complete, so a failed or killed run keeps all it finished; reports
whose PDF is newer than the .docx are skipped, and the next run resumes there.

Fonts: soffice runs with ``FONTCONFIG_FILE`` pointing at the file
:func:`nianbao.fontmap.fontconfig_file` makes, which includes ``data/fonts.conf``
and maps the fonts a 公文 asks for (仿宋_GB2312, 方正小标宋简体, 黑体,
楷体_GB2312, 宋体, Times New Roman) to free faces of the same kind when they are
not installed, and names the Noto CJK SC faces "sc" in the PDF;
:func:`font_substitutions` says which were substituted.

Check: :func:`lost_marks` compares the punctuation of each report's Word text
with the text of its PDF (``pdftotext``); a mark the PDF lacks is reported for
that unit (kind ``pdf-punctuation-lost``).  Table header rows repeated on a
new page only add marks to the PDF, so they can hide a loss of the same mark
but never cause a false one.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unicodedata
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from nianbao import fontmap, kinds
from nianbao.atomic import tmp_prefix

BATCH = 100
_POLL = 0.2  # seconds between looks at a running conversion
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def fonts_conf() -> Path:
    """The fontconfig file of the PDF step (nianbao's font mapping, SC faces named SC)."""
    return fontmap.fontconfig_file()


def soffice_env() -> dict[str, str]:
    """The environment soffice runs in: the system's, with nianbao's font mapping."""
    env = dict(os.environ)
    env["FONTCONFIG_FILE"] = str(fonts_conf())
    return env


def needs_pdf(docx: Path, force: bool = False) -> bool:
    pdf = docx.with_suffix(".pdf")
    try:
        return force or not pdf.is_file() or pdf.stat().st_mtime < docx.stat().st_mtime
    except OSError:
        return True


def convert(docs: list[Path], workers: int = 1, *, soffice: str | None = None,
            timeout_per_doc: float = 20.0, macro: bool = True) -> list[Path]:
    """Convert ``docs`` to PDF beside them; return the ones that failed.

    ``macro=False`` uses plain ``soffice --convert-to pdf`` only (hanging punctuation
    stays on: for comparison in bench/bench_pdf.py).
    """
    soffice = soffice or find_soffice()
    if soffice is None:
        return list(docs)
    if not docs:
        return []
    workers = max(1, min(workers, len(docs)))
    shares = [docs[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        failed = pool.map(lambda a: _convert_share(soffice, a[0], a[1], timeout_per_doc, macro),
                          enumerate(shares))
        return [p for part in failed for p in part]


def _convert_share(soffice: str, worker: int, docs: list[Path], timeout_per_doc: float,
                   use_macro: bool) -> list[Path]:
    # One profile per process and worker: two LibreOffice instances must never share one.
    profile = Path(tempfile.mkdtemp(prefix=f"nianbao-lo-{os.getpid()}-{worker}-"))
    try:
        macro = use_macro and _install_macro(soffice, profile)
        failed: list[Path] = []
        for start in range(0, len(docs), BATCH):
            batch = docs[start:start + BATCH]
            if macro:
                batch = _convert_batch(soffice, profile, batch, timeout_per_doc, macro=True)
            if batch:  # no macro, or documents it did not convert: the plain route
                batch = _convert_batch(soffice, profile, batch, timeout_per_doc, macro=False)
            failed += batch
        return failed
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _install_macro(soffice: str, profile: Path) -> bool:
    """Create the profile and put nianbao's conversion macro (data/convert.bas) in it."""
    try:
        subprocess.run([soffice, "--headless", "--norestore", "--nologo",
                        f"-env:UserInstallation={profile.as_uri()}", "--terminate_after_init"],
                       stdin=subprocess.DEVNULL, capture_output=True, env=soffice_env(),
                       timeout=120, check=False)
        module = profile / "user" / "basic" / "Standard" / "Module1.xba"
        if not module.parent.is_dir():
            return False
        code = (resources.files("nianbao") / "data" / "convert.bas").read_text(encoding="utf-8")
        module.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE script:module PUBLIC '
            '"-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">\n'
            '<script:module xmlns:script="http://openoffice.org/2000/script" '
            f'script:name="Module1" script:language="StarBasic">{escape(code)}</script:module>',
            encoding="utf-8")
        return True
    except (OSError, subprocess.TimeoutExpired):
        return False


def _convert_batch(soffice: str, profile: Path, batch: list[Path], timeout_per_doc: float,
                   *, macro: bool) -> list[Path]:
    """Convert one batch; return the documents left without a PDF."""
    placed: set[int] = set()
    with tempfile.TemporaryDirectory(prefix=tmp_prefix(), dir=batch[0].parent) as tmp:
        folder = Path(tmp).resolve()  # a relative output folder still gives file URIs
        if macro:  # ASCII names; a PDF is complete once renamed from .part
            made = [folder / f"{i}.pdf" for i in range(len(batch))]
            listing = folder / "list.txt"
            listing.write_text("".join(f"{doc.resolve().as_uri()}\t{out.as_uri()}\n"
                                       for doc, out in zip(batch, made, strict=True)),
                               encoding="utf-8")
            cmd = [soffice, "--headless", "--norestore", "--nologo",
                   f"-env:UserInstallation={profile.as_uri()}",
                   f'macro:///Standard.Module1.Convert("{listing.as_uri()}")']
        else:  # soffice --convert-to writes in order: a PDF is complete once the next appears
            made = [folder / (doc.stem + ".pdf") for doc in batch]
            cmd = [soffice, "--headless", "--norestore", "--nologo",
                   f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "pdf",
                   "--outdir", tmp, *map(str, batch)]

        def place(finished: bool) -> None:
            present = [i for i, path in enumerate(made) if path.exists()]
            last = len(batch) if finished or macro else (max(present) if present else 0)
            for i in present:
                if i < last and i not in placed and made[i].stat().st_size > 0:
                    os.replace(made[i], batch[i].with_suffix(".pdf"))
                    placed.add(i)

        deadline = time.monotonic() + 60 + timeout_per_doc * len(batch)
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=soffice_env(),
                                    start_new_session=True)
        except OSError:
            return list(batch)
        try:
            while True:
                try:
                    proc.wait(timeout=_POLL)
                    break
                except subprocess.TimeoutExpired:
                    place(finished=False)
                    if time.monotonic() > deadline:
                        _kill(proc)
                        break
            place(finished=proc.returncode == 0)
        finally:
            if proc.poll() is None:  # interrupted (Ctrl-C): soffice must not outlive us
                _kill(proc)
    return [doc for i, doc in enumerate(batch) if i not in placed]


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End soffice and the process it started (its own session, see _convert_batch)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.wait()


# ------------------------------------------------------------------ fonts


def requested_fonts(docx: Path) -> list[str]:
    """The font families a .docx names in its styles and text (w:rFonts), sorted."""
    names: set[str] = set()
    try:
        with zipfile.ZipFile(docx) as archive:
            for part in ("word/styles.xml", "word/document.xml"):
                if part in archive.namelist():
                    root = etree.fromstring(archive.read(part), _PARSER)
                    for fonts in root.iter(f"{{{W_NS}}}rFonts"):
                        for attr in ("ascii", "hAnsi", "eastAsia"):
                            value = fonts.get(f"{{{W_NS}}}{attr}")
                            if value:
                                names.add(value)
    except (OSError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return []
    return sorted(names)


def font_substitutions(families: list[str]) -> list[tuple[str, str]]:
    """(requested, used instead) for each family the PDF step does not have (fc-match)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return []
    out = []
    for family in families:
        try:
            used = subprocess.run([fc_match, "-f", "%{family[0]}", f"{family}:lang=zh-cn"],
                                  capture_output=True, text=True, env=soffice_env(),
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            continue
        if used and used.casefold() != family.casefold():
            out.append((family, used))
    return out


# ------------------------------------------------------------------ punctuation


def punctuation(text: str) -> Counter[str]:
    """How often each punctuation mark (Unicode category P*) occurs in ``text``."""
    return Counter(ch for ch in text if unicodedata.category(ch).startswith("P"))


def word_text(docx: Path) -> str:
    """The body text of a .docx (every w:t of word/document.xml)."""
    with zipfile.ZipFile(docx) as archive:
        root = etree.fromstring(archive.read("word/document.xml"), _PARSER)
    return "".join(t.text or "" for t in root.iter(f"{{{W_NS}}}t"))


def pdf_text(pdf: Path) -> str | None:
    """The text of a PDF by ``pdftotext``; None when it cannot be read."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    try:
        done = subprocess.run([tool, "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def lost_marks(docx: Path, pdf: Path) -> Counter[str] | None:
    """Punctuation the Word text has and the PDF text lacks; None if either is unreadable."""
    text = pdf_text(pdf)
    if text is None:
        return None
    try:
        word = word_text(docx)
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return None
    return punctuation(word) - punctuation(text)


# ------------------------------------------------------------------ build --pdf


def convert_outcomes(summary: object, workers: int, *, force: bool = False) -> None:
    """Add PDFs to a :class:`nianbao.build.BuildSummary` (imported lazily to avoid a cycle)."""
    from nianbao.build import BuildSummary, Status

    assert isinstance(summary, BuildSummary)
    soffice = find_soffice()
    if soffice is None:
        summary.pdf_failed = True
        summary.notes.append("未找到 LibreOffice（soffice 命令），没有生成 PDF；Word 和 HTML 文件不受影响。"
                             "请安装 LibreOffice（Debian/Ubuntu：apt-get install libreoffice-writer）后重新运行。")
        return
    docs = [p for o in summary.outcomes
            if o.status in (Status.BUILT, Status.UNCHANGED, Status.DRAFT)
            for p in o.outputs if p.suffix == ".docx"]
    todo = [d for d in docs if needs_pdf(d, force)]
    failed = set(convert(todo, workers, soffice=soffice))
    checked = {d for d in todo if d not in failed}
    for i, o in enumerate(summary.outcomes):
        extra = tuple(p.with_suffix(".pdf") for p in o.outputs
                      if p.suffix == ".docx" and p.with_suffix(".pdf").is_file() and p not in failed)
        losses = [kinds.finding("pdf-punctuation-lost", file=p.with_suffix(".pdf").name,
                                count=sum(lost.values()), marks="".join(sorted(lost)))
                  for p in o.outputs if p in checked
                  for lost in [lost_marks(p, p.with_suffix(".pdf"))] if lost]
        if extra or losses:
            summary.outcomes[i] = dataclasses.replace(
                o, outputs=o.outputs + extra, reasons=o.reasons + tuple(losses),
                warnings=o.warnings + len(losses))
    if docs:
        swaps = font_substitutions(requested_fonts(docs[0]))
        if swaps:
            summary.notes.append(
                "PDF 字体替换（本机没有安装这些字体）：" + "，".join(f"{a} → {b}" for a, b in swaps)
                + "。Word 文件不受影响，在装有这些字体的电脑上按原字体显示。")
    skipped = len(docs) - len(todo)
    summary.notes.append(f"PDF：转换 {len(todo) - len(failed)} 个，已是最新跳过 {skipped} 个"
                         + (f"，失败 {len(failed)} 个：" + "、".join(p.name for p in sorted(failed))
                            if failed else "") + "。")
    summary.pdf_failed = bool(failed)
