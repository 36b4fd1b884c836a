"""PDF copies of the reports through LibreOffice headless, after every .docx is on disk.

Many documents go into one ``soffice`` call (start-up costs ~1 s); each worker
has its own LibreOffice profile, because two instances sharing one profile
cannot run at once.  Reports whose PDF is newer than the .docx are skipped, so
an interrupted conversion resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nianbao.atomic import tmp_prefix

BATCH = 50


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def needs_pdf(docx: Path, force: bool = False) -> bool:
    pdf = docx.with_suffix(".pdf")
    try:
        return force or not pdf.is_file() or pdf.stat().st_mtime < docx.stat().st_mtime
    except OSError:
        return True


def convert(docs: list[Path], workers: int = 1, *, soffice: str | None = None,
            timeout_per_doc: float = 20.0) -> list[Path]:
    """Convert ``docs`` to PDF beside them; return the ones that failed."""
    soffice = soffice or find_soffice()
    if soffice is None:
        return list(docs)
    workers = max(1, min(workers, len(docs)))
    shares = [docs[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        failed = pool.map(lambda a: _convert_share(soffice, a[0], a[1], timeout_per_doc),
                          enumerate(shares))
        return [p for part in failed for p in part]


def _convert_share(soffice: str, worker: int, docs: list[Path], timeout_per_doc: float
                   ) -> list[Path]:
    # One profile per process and worker: two LibreOffice instances must never share one.
    profile = Path(tempfile.mkdtemp(prefix=f"nianbao-lo-{os.getpid()}-{worker}-"))
    try:
        return _convert_batches(soffice, profile, docs, timeout_per_doc)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _convert_batches(soffice: str, profile: Path, docs: list[Path], timeout_per_doc: float
                     ) -> list[Path]:
    failed: list[Path] = []
    for start in range(0, len(docs), BATCH):
        batch = docs[start:start + BATCH]
        with tempfile.TemporaryDirectory(prefix=tmp_prefix(), dir=batch[0].parent) as tmp:
            cmd = [soffice, "--headless", "--norestore", "--nologo",
                   f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "pdf",
                   "--outdir", tmp, *map(str, batch)]
            try:
                subprocess.run(cmd, capture_output=True, check=False,
                               timeout=60 + timeout_per_doc * len(batch))
            except (subprocess.TimeoutExpired, OSError):
                pass
            for doc in batch:
                made = Path(tmp) / (doc.stem + ".pdf")
                if made.is_file() and made.stat().st_size > 0:
                    os.replace(made, doc.with_suffix(".pdf"))
                else:
                    failed.append(doc)
    return failed


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
    for i, o in enumerate(summary.outcomes):
        extra = tuple(p.with_suffix(".pdf") for p in o.outputs
                      if p.suffix == ".docx" and p.with_suffix(".pdf").is_file() and p not in failed)
        if extra:
            summary.outcomes[i] = dataclasses.replace(o, outputs=o.outputs + extra)
    skipped = len(docs) - len(todo)
    summary.notes.append(f"PDF：转换 {len(todo) - len(failed)} 个，已是最新跳过 {skipped} 个"
                         + (f"，失败 {len(failed)} 个：" + "、".join(p.name for p in sorted(failed))
                            if failed else "") + "。")
    summary.pdf_failed = bool(failed)
