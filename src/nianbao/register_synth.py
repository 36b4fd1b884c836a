"""Random but realistic registers (for the sample agency, the tests and the benchmarks).

Every row is consistent by construction: dates in the right year, replies within
the 条例's deadlines counted on the real calendar (unless ``late`` asks for some
late ones), unfinished applications marked 结转下年度.  Names and summaries are
made up, so tests can search every output for them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nianbao.register import CARRIED_IN, NEW, YES, application_register, case_register
from nianbao.register_form import RegisterRows
from nianbao.workdays import add_workdays, is_workday, workdays_between

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏建华红梅飞晨浩宇欣怡子涵"
TOPICS = ("征地补偿安置方案", "房屋征收决定", "建设工程规划许可证", "环境影响评价批复", "财政预算执行情况",
          "行政处罚决定书", "招标投标结果", "低保审批名单", "道路改造工程立项批复", "企业排污许可")
# (result row, weight): most applications are answered in full or in part
RESULT_WEIGHTS = {"r3_1": 40, "r3_2": 12, "r3_3_1": 1, "r3_3_2": 1, "r3_3_3": 1, "r3_3_4": 3,
                  "r3_3_5": 2, "r3_3_6": 3, "r3_3_7": 1, "r3_3_8": 2, "r3_4_1": 18, "r3_4_2": 4,
                  "r3_4_3": 2, "r3_5_1": 3, "r3_5_2": 3, "r3_5_3": 1, "r3_5_4": 1, "r3_5_5": 1,
                  "r3_6_1": 2, "r3_6_2": 1, "r3_6_3": 2}
APPLICANT_WEIGHTS = {"natural": 70, "commercial": 12, "research": 2, "social": 3, "legal": 8,
                     "other": 5}


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass(frozen=True, slots=True, kw_only=True)
class Synthetic:
    rows: RegisterRows
    carried_out: tuple[str, ...]  # 编号 marked 结转下年度
    names: tuple[str, ...]  # every applicant name written (for privacy tests)
    types: Mapping[str, str] = field(default_factory=dict)  # 编号 -> 申请人类型 label

    @property
    def carried_types(self) -> dict[str, str]:
        """The 结转下年度 编号 with their 申请人类型: next year's ``carried_in``."""
        return {no: self.types[no] for no in self.carried_out}


def random_register(rng: random.Random, year: int, n: int, *,
                    carried_in: Sequence[str] | Mapping[str, str] = (), late: float = 0.0,
                    cases: int = 0, prefix: str = "") -> Synthetic:
    """``n`` new applications in ``year`` plus the ``carried_in`` 编号 from last year (a
    mapping gives each its 申请人类型 label, as last year's :attr:`Synthetic.carried_types`)."""
    reg = application_register()
    label = {f: {c.value: c.label for c in reg.choices[f]} for f in reg.choices}
    rows: list[dict[str, object]] = []
    names: list[str] = []
    carried_out: list[str] = []
    jan1 = dt.date(year, 1, 1)
    for no in carried_in:
        received = _workday(rng, dt.date(year - 1, 12, 15), 14)
        row = _application(rng, no, received, CARRIED_IN, year, late, label, names, carried_out)
        if isinstance(carried_in, Mapping):
            row["applicant_type"] = carried_in[no]
        rows.append(row)
    for i in range(n):
        received = _workday(rng, jan1, 364)
        rows.append(_application(rng, f"{prefix}{year}-{i + 1:05d}", received, NEW, year, late,
                                 label, names, carried_out))
    case_rows = []
    kinds = case_register().choices
    for i in range(cases):
        case_rows.append({"no": f"{prefix}案{year}-{i + 1:03d}",
                          "kind": rng.choice(kinds["kind"]).label,
                          "result": rng.choice(kinds["result"]).label,
                          "filed": _workday(rng, jan1, 330),
                          "application": str(rng.choice(rows)["no"]) if rows else None})
    return Synthetic(rows=RegisterRows(applications=rows, cases=case_rows),
                     carried_out=tuple(carried_out), names=tuple(names),
                     types={str(r["no"]): str(r["applicant_type"]) for r in rows})


def _workday(rng: random.Random, start: dt.date, span: int) -> dt.date:
    day = start + dt.timedelta(days=rng.randrange(span))
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


def _application(rng: random.Random, no: str, received: dt.date, source: str, year: int,
                 late: float, label: dict[str, dict[str, str]], names: list[str],
                 carried_out: list[str]) -> dict[str, object]:
    name = person(rng)
    names.append(name)
    applicant = rng.choices(list(APPLICANT_WEIGHTS), list(APPLICANT_WEIGHTS.values()))[0]
    row: dict[str, object] = {
        "no": no, "received": received, "applicant_type": label["applicant_type"][applicant],
        "applicant": name if applicant == "natural" else f"{name}代理的某某有限公司",
        "summary": f"{name}申请公开{rng.choice(TOPICS)}", "source": source,
    }
    result = rng.choices(list(RESULT_WEIGHTS), list(RESULT_WEIGHTS.values()))[0]
    start = received
    if result in ("r3_4_3", "r3_6_1") or rng.random() < 0.05:
        row["correction"] = add_workdays(received, rng.randint(1, 7))
        if result != "r3_6_1":
            start = add_workdays(row["correction"], rng.randint(1, 10))  # type: ignore[arg-type]
            row["corrected"] = start
    extra = 0
    if result == "r3_3_4" or rng.random() < 0.03:
        consult = add_workdays(start, rng.randint(1, 5))
        back = add_workdays(consult, rng.randint(3, 15))
        row["consult"], row["consult_reply"] = consult, back
        extra = workdays_between(consult, back)
    extended = rng.random() < 0.08
    limit = (40 if extended else 20) + extra
    took = rng.randint(limit + 1, limit + 10) if rng.random() < late else rng.randint(1, limit)
    replied = add_workdays(start, took)
    if result == "r3_6_1":
        replied = add_workdays(row["correction"], rng.randint(16, 25))  # type: ignore[arg-type]
    if replied.year < year:  # carried in from last year: answered this year, in time
        replied = _workday(rng, dt.date(year, 1, 2), 1)
    if replied.year > year:
        row["carried"] = YES
        carried_out.append(no)
        for key in ("correction", "corrected", "consult", "consult_reply"):
            value = row.get(key)
            if isinstance(value, dt.date) and value.year > year:
                del row[key]
        return row
    row["result"] = label["result"][result]
    row["replied"] = replied
    if extended:
        row["extended"] = YES
    return row

