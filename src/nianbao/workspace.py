"""Set up a year's workspace: nianbao.toml, the folders, the template and one form per unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nianbao.atomic import write_bytes, write_text
from nianbao.config import CONFIG_NAME, CycleError, render_config
from nianbao.intake import IntakeData, write_intake
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
                   fee_decimals: int = 4) -> InitResult:
    """Create (or with ``force`` refresh) a workspace; never touches ``inputs/`` or ``outputs/``.

    The roster is copied into the workspace so that the folder is self-contained.
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
    for unit in roster:
        path = root / "forms" / form_name(unit, year)
        write_intake(path, IntakeData(agency=unit.name, code=unit.code, year=year,
                                      level=intake_level(unit.level), contact=unit.contact,
                                      phone=unit.phone), fee_decimals=fee_decimals)
        forms.append(path)
    return InitResult(root=root, config=config_path, roster=roster_copy, forms=tuple(forms),
                      template=template, notes=tuple(notes))
