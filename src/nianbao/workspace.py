"""Set up a year's workspace: nianbao.toml, the folders, the template and one form per unit."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from nianbao.atomic import write_bytes, write_text
from nianbao.config import CONFIG_NAME, CycleError, render_config
from nianbao.intake import IntakeData, build_workbook, write_intake
from nianbao.naming import safe_filename
from nianbao.roster import Roster, Unit, intake_level, read_roster
from nianbao.settings import Settings

PACKAGE_TEMPLATE = Path(__file__).resolve().parent / "data" / "report.docx"
TEMPLATE_NAME = "report.docx"
FOLDERS = ("inputs", "outputs", "forms", "templates")


def safe_name(stem: str, suffix: str = "") -> str:
    """A file name safe on every OS (see :func:`nianbao.naming.safe_filename`)."""
    return safe_filename(stem, suffix)


def form_name(unit: Unit, year: int) -> str:
    return safe_name(f"{unit.code}_{unit.name}_{year}年政府信息公开年报填报表", ".xlsx")


def place_prefix(roster: Roster) -> str:
    """The place name most unit names start with (``青山县``), or ''."""
    counts: dict[str, int] = {}
    for unit in roster:
        for i, ch in enumerate(unit.name[:8]):
            if ch in "省市县区旗州盟":
                counts[unit.name[:i + 1]] = counts.get(unit.name[:i + 1], 0) + 1
    common = [p for p, n in counts.items() if n * 2 >= len(roster)]
    return max(common, key=len, default="")


@dataclass(frozen=True, slots=True, kw_only=True)
class InitResult:
    root: Path
    config: Path
    roster: Path
    forms: tuple[Path, ...]
    template: Path | None  # None: the package has no template yet, the default is used
    notes: tuple[str, ...] = field(default=())


def init_workspace(root: Path, *, year: int, roster_file: Path, force: bool = False,
                   fee_decimals: int = 4,
                   progress: Callable[[str, int, int], None] | None = None) -> InitResult:
    """Create (or with ``force`` refresh) a workspace; never touches ``inputs/`` or ``outputs/``.

    The roster is copied into the workspace so that the folder is self-contained.
    ``progress(stage, done, total)`` is called after each form.
    Raises :class:`~nianbao.roster.RosterError` for a bad roster and
    :class:`~nianbao.config.CycleError` when the folder is already a workspace.
    """
    roster = read_roster(roster_file)  # check first: a bad roster writes nothing
    root = root.resolve()
    config_path = root / CONFIG_NAME
    notes: list[str] = []
    if config_path.exists() and not force:
        raise CycleError(f"{root} 已经是一个 nianbao 工作区（已有 {CONFIG_NAME}）。"
                         "如需按新名单重新生成配置和填报表，请加 --force"
                         "（原配置另存为 nianbao.toml.bak，inputs/ 和 outputs/ 不受影响）。")
    for folder in FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    roster_copy = root / ("单位名单" + roster_file.suffix.lower())
    if roster_copy.resolve() != roster_file.resolve():
        write_bytes(roster_copy, roster_file.read_bytes())
    template: Path | None = None
    if PACKAGE_TEMPLATE.is_file():
        template = root / "templates" / TEMPLATE_NAME
        if not template.exists():
            write_bytes(template, PACKAGE_TEMPLATE.read_bytes())  # the coordinator's copy to edit
        else:
            notes.append(f"保留已有的模板 {template.relative_to(root)}。")
    else:
        notes.append("本版本尚未附带 Word 模板，生成报告时将使用内置格式。")
    if config_path.exists():
        write_bytes(root / (CONFIG_NAME + ".bak"), config_path.read_bytes())
        notes.append(f"原配置已另存为 {CONFIG_NAME}.bak（其中的 [pins] 等设置请按需抄回）。")
    prefix = place_prefix(roster)
    text = render_config(
        year=year, roster=roster_copy.name,
        summary_name=f"{prefix}人民政府" if prefix else "汇总",
        template=f"templates/{TEMPLATE_NAME}" if template else None,
        settings=Settings(fee_decimals=fee_decimals))
    write_text(config_path, text)
    forms = []
    stamp = FormStamp(year=year, fee_decimals=fee_decimals)
    for i, unit in enumerate(roster, 1):
        path = root / "forms" / form_name(unit, year)
        stamp.write(path, IntakeData(agency=unit.name, code=unit.code, year=year,
                                     level=intake_level(unit.level), contact=unit.contact,
                                     phone=unit.phone))
        forms.append(path)
        if progress is not None:
            progress("生成填报表", i, len(roster))
    return InitResult(root=root, config=config_path, roster=roster_copy, forms=tuple(forms),
                      template=template, notes=tuple(notes))


_TOKENS = {"agency": "NBSTAMPAGENCYQ", "code": "NBSTAMPCODEQ", "contact": "NBSTAMPCONTACTQ",
           "phone": "NBSTAMPPHONEQ"}


class FormStamp:
    """Blank forms for many units, fast: one workbook per kind, the unit's own strings stamped in.

    openpyxl takes ~0.1 s to build and save a form; a roster of 2,000 units would
    wait minutes.  The form of each kind (层级, which fields are filled) is built
    once with placeholder strings, and each unit's form is that workbook with the
    placeholders replaced in its XML: the same file :func:`write_intake` makes.
    A value the XML would write differently (edge spaces, control characters)
    goes through :func:`write_intake` itself.
    """

    def __init__(self, *, year: int, fee_decimals: int = 4) -> None:
        self.year = year
        self.fee_decimals = fee_decimals
        self._bases: dict[tuple[object, ...], list[tuple[zipfile.ZipInfo, bytes]]] = {}

    @staticmethod
    def _given(data: IntakeData) -> dict[str, str]:
        return {"agency": data.agency, "code": data.code, "contact": data.contact,
                "phone": data.phone}

    def _base(self, data: IntakeData) -> list[tuple[zipfile.ZipInfo, bytes]]:
        given = self._given(data)
        key = (data.level, data.year, *(bool(v) for v in given.values()))
        base = self._bases.get(key)
        if base is None:
            token = {k: _TOKENS[k] if v else "" for k, v in given.items()}
            marked = IntakeData(agency=token["agency"], code=token["code"],
                                contact=token["contact"], phone=token["phone"], year=data.year,
                                level=data.level)
            buf = io.BytesIO()
            build_workbook(marked, fee_decimals=self.fee_decimals).save(buf)
            with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
                base = [(info, zf.read(info)) for info in zf.infolist()]
            self._bases[key] = base
        return base

    def render(self, data: IntakeData) -> bytes | None:
        """The form's bytes, or None when a value cannot be stamped as is."""
        given = self._given(data)
        if data.values or data.narrative or not all(_stampable(v) for v in given.values()):
            return None
        swaps = [(_TOKENS[k].encode(), escape(v).encode("utf-8")) for k, v in given.items() if v]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            for info, content in self._base(data):
                for token, value in swaps:
                    content = content.replace(token, value)
                out.writestr(info, content)
        return buf.getvalue()

    def write(self, path: Path, data: IntakeData) -> Path:
        content = self.render(data)
        if content is None:
            return write_intake(path, data, fee_decimals=self.fee_decimals)
        write_bytes(path, content)
        return path


def _stampable(value: str) -> bool:
    return (value == value.strip() and all(ch.isprintable() or ch == "\u3000" for ch in value)
            and not any(token in value for token in _TOKENS.values()))
