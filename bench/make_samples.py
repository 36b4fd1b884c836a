"""Write the sample returned workbooks shipped in inputs/ (run from the repository root).

    python bench/make_samples.py [inputs]

Four agencies: the seed report's agency with its 2021 data (all zero), a busy
city office with hundreds of applications, a county bureau whose return has
the mistakes coordinators see every year, and a city bureau whose 表三 and 表四
are counted from its register (依申请公开登记台账, about 200 applications, a few
replies late, which the deadline checks name as warnings).
"""

from __future__ import annotations

import dataclasses
import random
import sys
from decimal import Decimal
from pathlib import Path

from nianbao.check import check_file
from nianbao.intake import IntakeData, write_intake
from nianbao.register_form import write_register_form
from nianbao.register_synth import random_register
from nianbao.schema import DEFAULT_FORMAT
from nianbao.synth import narrative_for, random_values, type_into

SEED_AGENCY = "获嘉县政务服务和大数据管理局"
SEED_S1 = (
    "2021年，获嘉县政务服务和大数据管理局在县委、县政府的正确领导下，紧紧围绕我局中心工作，持续完善政务公开制度规范，着力深化重点领域信息公开，不断加强政策解读和政务舆情回应，大力推进政务公开规范优质发展。",
    "（一）加强组织领导。我局按照《条例》要求，由局长负总责，分管局长带头落实，积极安排部署，扎实开展政务信息公开工作，确保人民群众能够及时、准确、有效地了解政府信息，确保公开工作做到规范、高效、便民。",
    "（二）开拓政务公开渠道。一是按照省、市、县统一部署，按时更新信息公开内容。二是在政务大厅2楼开辟政务公开专区，为广大市民提供政府信息公开查询、办事咨询等服务。专区设置政务公开专区标识，配备政务公开专用查询机、政务公开专用电脑。",
    "（三）重视舆情回应，保证公开及时。严格落实政务服务和大数据管理局重大舆情处置管理办法，扎实做好舆情搜集、研判、处置和回应。严格执行特别重大、重大突发事件最迟5小时内发布权威信息、24小时内举行新闻发布会的时限要求，确保回应不超时、内容不敷衍。主动排查隐患，对政务大厅出现的矛盾纠纷及时化解，避免发生事故。",
    "1、主动公开方面",
    "2021年，我局在《新乡日报》等市级以上新闻体刊发政策及工作信息2篇，新媒体平台公开各类工作信息10条。主动发布重大行政决策预公开、决策执行及落实情况等信息。",
    "2、依申请公开方面",
    "依据《条例》的规定，对于公民、法人或其他组织提出的政府信息公开申请，做到规范受理、及时处理、认真答复。2021年，我局未收到信息公开的申请。",
)
SEED_S5 = (
    "（一）存在的问题",
    "政务公开工作水平有待提高。公开的信息数量较少，还有待增加；信息公开的覆盖面也不够，没有达到《条例》和基层政务公开标准化规范化的要求，亟需拓宽，栏目有待完善；公开内容以正面信息为主，一定程度上存在“报喜不报忧”的问题，公开形式大多采用文字和图表，新技术、新模式应用不够。",
    "（二）下一步工作计划",
    "一是强化组织领导。明确政务公开工作分管领导、主管股室和具体工作人员，加强队伍建设，挑选熟悉计算机操作、掌握全局工作情况的同志从事信息公开的具体操作。",
    "二是进一步创新政务公开的方式方法，使之更有利于单位工作朝着规范化、程序化、效率化等方面发展。",
    "三是强化依法公开意识，做好信息依申请公开的受理和答复工作。",
)
SEED_S6 = ("本报告年度无其它需报告的事项。",)


def seed_data() -> IntakeData:
    zeros = {key: (Decimal(0) if DEFAULT_FORMAT.cells[key].type == "amount" else 0)
             for key in DEFAULT_FORMAT.input_keys}
    return IntakeData(agency=SEED_AGENCY, code="410724-017", year=2021, level="县级部门",
                      contact="办公室", phone="0373-4500000", values=zeros,
                      narrative={"s1": SEED_S1, "s5": SEED_S5, "s6": SEED_S6})


def busy_data() -> IntakeData:
    rng = random.Random(2025)
    agency = "清源市人民政府办公室"
    values = random_values(rng, scale=400)
    return IntakeData(agency=agency, code="3301-000", year=2025, level="设区的市级人民政府",
                      contact="李四", phone="0571-8700000", values=values,
                      narrative=narrative_for(agency, 2025, values, rng))


def write_mistakes(path: Path) -> None:
    """A county bureau's return with the usual mistakes, typed over a valid form."""
    rng = random.Random(7)
    agency = "白水县交通运输局"
    values = random_values(rng, scale=30)
    narrative = dict(narrative_for(agency, 2025, values, rng))
    narrative["s1"] = (*narrative["s1"][:2], "（二）依申请公开情况。2025年，我局未收到政府信息公开申请。")
    narrative["s5"] = ("无",)
    data = IntakeData(agency=agency, code="610527-020", year=2025, level="县级部门",
                      contact="王五", phone="0913-6100000", values=values, narrative=narrative)
    write_intake(path, data)
    type_into(path, {
        "t3.r1.natural": int(values["t3.r1.natural"] or 0) + 2,  # balance broken by 2
        "t3.r3_1.commercial": "/",  # placeholder instead of 0
        "t3.r2.legal": "１",  # full-width digit typed as text
        "t3.r4.other": 1.5,  # a count with decimals
        "t2_1.rules.issued": 3,  # a county bureau cannot make 规章
        "t2_8.fees.amount": 32500,  # 元 typed into a 万元 cell
    })


REGISTER_AGENCY = "清源市自然资源和规划局"


def write_register_sample(path: Path) -> None:
    """A bureau that keeps its register in the form: 表三/表四 are its live counts."""
    rng = random.Random(13)
    carried = {f"ZG2024-{i:04d}": "自然人" for i in (311, 318, 325)}
    syn = random_register(rng, 2025, 197, carried_in=carried, late=0.03, cases=6, prefix="ZG")
    data = IntakeData(agency=REGISTER_AGENCY, code="3301-027", year=2025,
                      level="设区的市级人民政府部门", contact="赵六", phone="0571-8700027",
                      values=random_values(rng, scale=60))
    write_register_form(path, data, syn.rows)
    counted = check_file(path).submission
    assert counted is not None
    narrative = narrative_for(REGISTER_AGENCY, 2025, counted.values, rng)
    write_register_form(path, dataclasses.replace(data, values=counted.values,
                                                  narrative=narrative), syn.rows)


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_intake(folder / "获嘉县政务服务和大数据管理局2021年报数据.xlsx", seed_data())
    write_intake(folder / "清源市人民政府办公室.xlsx", busy_data())
    write_mistakes(folder / "交通局年报(1).xlsx")
    write_register_sample(folder / f"{REGISTER_AGENCY}（含登记台账）.xlsx")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "inputs"))
