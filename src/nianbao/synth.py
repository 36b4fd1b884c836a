"""Synthetic agencies with valid, varied, realistic data: for samples, tests and benchmarks.

Every table produced here passes every error rule of the format: 表三 is built
column by column so that 一 + 二 = 三（七）总计 + 四 holds, and totals are
recomputed from the schema's formulas.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from nianbao.model import Submission, Value
from nianbao.schema import DEFAULT_FORMAT, FormatSpec

# Applicant mix of a typical office: mostly 自然人, some 企业, a few others.
_WEIGHTS = {"natural": 70, "commercial": 15, "research": 1, "social": 2, "legal": 5, "other": 7}
# Dispositions: 予以公开 and 无法提供·不掌握 dominate in published reports.
_RESULT_WEIGHTS = {"r3_1": 40, "r3_2": 8, "r3_3_1": 1, "r3_3_2": 1, "r3_3_3": 1, "r3_3_4": 2,
                   "r3_3_5": 2, "r3_3_6": 2, "r3_3_7": 1, "r3_3_8": 2, "r3_4_1": 20, "r3_4_2": 4,
                   "r3_4_3": 2, "r3_5_1": 3, "r3_5_2": 3, "r3_5_3": 1, "r3_5_4": 1, "r3_5_5": 1,
                   "r3_6_1": 2, "r3_6_2": 1, "r3_6_3": 2}

UNITS = ("教育局", "公安局", "民政局", "司法局", "财政局", "人力资源和社会保障局", "自然资源局",
         "生态环境分局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局",
         "文化广电和旅游局", "卫生健康委员会", "退役军人事务局", "应急管理局", "审计局",
         "市场监督管理局", "统计局", "医疗保障局", "城市管理局", "政务服务和大数据管理局",
         "发展和改革委员会", "工业和信息化局", "林业局", "信访局", "行政审批服务局")
PLACES = ("青山县", "白水县", "临河县", "东平县", "安远县", "长宁县", "永和县", "清源县")


def _split(total: int, weights: dict[str, int], rng: random.Random) -> dict[str, int]:
    keys = list(weights)
    out = dict.fromkeys(keys, 0)
    for key in rng.choices(keys, weights=[weights[k] for k in keys], k=total):
        out[key] += 1
    return out


def random_values(rng: random.Random, *, scale: int = 50,
                  spec: FormatSpec = DEFAULT_FORMAT) -> dict[str, Value | None]:
    """A valid set of values for every cell; ``scale`` ~ applications per year."""
    values: dict[str, Value | None] = {}
    values["t2_1.rules.issued"] = 0
    values["t2_1.rules.repealed"] = 0
    values["t2_1.rules.in_force"] = 0
    issued = rng.randint(0, 12)
    repealed = rng.randint(0, 4)
    values["t2_1.normative.issued"] = issued
    values["t2_1.normative.repealed"] = repealed
    values["t2_1.normative.in_force"] = issued + rng.randint(repealed, 60)
    values["t2_5.licensing.decisions"] = rng.choice((0, rng.randint(10, 20000)))
    values["t2_6.penalty.decisions"] = rng.choice((0, rng.randint(1, 3000)))
    values["t2_6.coercion.decisions"] = rng.choice((0, rng.randint(0, 200)))
    fee = Decimal(rng.randint(0, 5_000_000)) / Decimal(10000) if rng.random() < 0.4 else Decimal(0)
    values["t2_8.fees.amount"] = fee
    new = _split(rng.randint(0, 2 * scale), _WEIGHTS, rng)
    carried = _split(rng.randint(0, max(scale // 10, 1)), _WEIGHTS, rng)
    for column in _WEIGHTS:
        values[f"t3.r1.{column}"] = new[column]
        values[f"t3.r2.{column}"] = carried[column]
        open_cases = new[column] + carried[column]
        to_next = rng.randint(0, open_cases // 8) if open_cases else 0
        results = _split(open_cases - to_next, _RESULT_WEIGHTS, rng)
        values[f"t3.r4.{column}"] = to_next
        for row, count in results.items():
            values[f"t3.{row}.{column}"] = count
    for prefix in ("rv", "ld", "la"):
        n = rng.choice((0, 0, rng.randint(0, max(scale // 20, 1))))
        parts = _split(n, {"keep": 6, "correct": 1, "other": 2, "pending": 1}, rng)
        for leaf, count in parts.items():
            values[f"t4.{prefix}_{leaf}"] = count
    spec.recompute(values)
    return values


_OPENINGS = (
    "在县委、县政府的正确领导下，认真贯彻落实《中华人民共和国政府信息公开条例》，",
    "坚持以习近平新时代中国特色社会主义思想为指导，严格执行《中华人民共和国政府信息公开条例》，",
    "按照上级政务公开工作部署，结合本单位职责，",
    "紧紧围绕年度重点工作，以群众需求为导向，",
    "把政务公开作为转变作风、提升效能的重要抓手，",
)
_AIMS = (
    "坚持以公开为常态、不公开为例外，持续深化重点领域信息公开。",
    "着力加强政策解读和回应关切，不断提升政务公开标准化规范化水平。",
    "扎实推进决策、执行、管理、服务、结果公开，切实保障人民群众知情权、参与权和监督权。",
    "围绕中心工作和群众关切，推动政务公开提质增效。",
    "完善公开制度机制，规范公开内容和程序，增强政府工作透明度。",
    "聚焦惠企利民政策，做好政策发布、解读和回应，营造良好的政务环境。",
)
_CHANNELS = ("政府网站、政务新媒体", "政府门户网站信息公开专栏", "政府网站和公开栏", "政务微信公众号和政府网站",
             "政府网站、政务服务大厅公开专区")
_MANAGEMENT = (
    "建立健全政府信息公开审查机制，严格落实“三审三校”制度，动态更新政府信息公开指南和目录。",
    "落实信息发布保密审查，明确专人负责信息采集、审核和发布，定期开展错敏信息排查。",
    "规范政府信息管理，对已公开的政策文件进行清理，及时更新有效性标注。",
    "完善依申请公开办理流程，做到登记、审核、答复各环节规范留痕。",
)
_PLATFORM = (
    "持续优化政府信息公开专栏，规范栏目设置，及时更新发布内容。",
    "加强政务新媒体管理，严格执行信息发布审核制度，确保内容准确、权威。",
    "在办事大厅设置政府信息查阅点，方便群众现场查阅。",
    "对网站栏目进行梳理整合，清理空白栏目和长期未更新栏目。",
)
_SUPERVISION = (
    "将政务公开工作纳入年度目标考核，加强业务培训。",
    "定期开展政务公开自查，对发现的问题及时整改。",
    "组织工作人员参加政务公开业务培训，提升业务能力。",
    "主动接受社会监督，畅通意见建议渠道。",
)
_PROBLEMS = ("公开内容的深度和广度有待提升", "政策解读形式较为单一", "工作人员业务能力有待加强",
             "信息发布的及时性还需提高", "公开栏目更新不够及时", "回应群众关切的主动性不够")
_MEASURES = ("加强重点领域信息公开", "丰富政策解读形式，提高解读质量", "加强业务培训，提升工作人员业务水平",
             "健全信息发布审核机制，确保及时准确", "定期巡查栏目，做到动态更新", "主动回应社会关切")


def narrative_for(agency: str, year: int, values: dict[str, Value | None],
                  rng: random.Random) -> dict[str, tuple[str, ...]]:
    """Narrative of realistic length whose numbers agree with the tables.

    Each unit's wording is drawn from alternatives, so two units of a batch are not
    雷同 (nearly identical text) the way copied reports are.
    """
    new = values.get("t3.r1.total") or 0
    carried = values.get("t3.r2.total") or 0
    published = values.get("t3.r3_1.total") or 0
    review = values.get("t4.rv_total") or 0
    suits = (values.get("t4.ld_total") or 0) + (values.get("t4.la_total") or 0)
    applications = (f"{year}年，本机关共收到政府信息公开申请{new}件，上年结转{carried}件，"
                    f"其中予以公开{published}件，均在法定期限内予以答复。"
                    if new else f"{year}年，本机关未收到政府信息公开申请。")
    disputes = (f"全年因政府信息公开工作被申请行政复议{review}件、提起行政诉讼{suits}件。"
                if review or suits else "全年未发生因政府信息公开引起的行政复议、行政诉讼。")
    aims = rng.sample(_AIMS, rng.randint(2, 4))

    def pick(options: tuple[str, ...], n: int) -> str:
        return "".join(rng.sample(options, n))

    s1 = (
        f"{year}年，{agency}" + rng.choice(_OPENINGS) + "".join(aims),
        "（一）主动公开情况。" + f"全年通过{rng.choice(_CHANNELS)}等渠道主动公开各类政府信息"
        f"{rng.randint(20, 900)}条。" + rng.choice(_AIMS),
        "（二）依申请公开情况。" + applications,
        "（三）政府信息管理。" + pick(_MANAGEMENT, 2),
        "（四）平台建设。" + pick(_PLATFORM, 2),
        "（五）监督保障。" + pick(_SUPERVISION, 2) + disputes,
    )
    problems = rng.sample(_PROBLEMS, 3)
    measures = rng.sample(_MEASURES, 3)
    s5 = (
        "（一）存在的问题。" + "；".join(f"{n}是{p}" for n, p in zip("一二三", problems, strict=True))
        + "。",
        "（二）改进措施。" + "；".join(f"{n}是{m}" for n, m in zip("一二三", measures, strict=True))
        + "。",
    )
    fee_line = ("本年度未收取信息处理费。" if not values.get("t3.r3_6_2.total")
                else "本年度依法向申请人发出信息处理费收费通知，部分申请人逾期未缴纳，依法不再处理。")
    s6 = (fee_line + "本年度无其他需要报告的事项。",)
    return {"s1": s1, "s5": s5, "s6": s6}


def random_submission(rng: random.Random, *, index: int = 0, year: int = 2025,
                      scale: int | None = None) -> Submission:
    """A whole valid agency: name, code, values and narrative."""
    place = PLACES[index % len(PLACES)]
    unit = UNITS[(index // len(PLACES)) % len(UNITS)]
    suffix = "" if index < len(PLACES) * len(UNITS) else f"第{index // (len(PLACES) * len(UNITS)) + 1}分局"
    agency = f"{place}{unit}{suffix}"
    values = random_values(rng, scale=scale if scale is not None else rng.choice((5, 20, 60, 300)))
    return Submission(agency=agency, code=f"SYN-{index:05d}", year=year, level="县级部门",
                      contact="张三", phone="0373-1234567", values=values,
                      narrative=narrative_for(agency, year, values, rng))


def type_into(path: Path, edits: Mapping[str, object]) -> Path:
    """Type values into an intake workbook by key, as a person would (for samples and tests).

    The value is written where :mod:`nianbao.layout` puts the key, over whatever
    was there (a formula included), so a test can make any cell say anything.
    A key of the 基本信息 sheet (``agency``, ``contact``, a narrative section such as
    ``s1``) goes in its cell there; a narrative given as paragraphs is typed one per line.
    """
    from openpyxl import load_workbook

    from nianbao.layout import workbook_layout

    layout = workbook_layout()
    wb = load_workbook(path)
    for key, value in edits.items():
        if key in layout.info_rows:
            sheet, cell = layout.spec.sheet_name("info"), layout.info_cell(key)
            if isinstance(value, tuple | list):
                value = "\n".join(str(v) for v in value)
        else:
            sheet, cell = layout.cell(key)
        wb[sheet][cell] = value
    wb.save(path)
    return path
