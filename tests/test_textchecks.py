"""The text checks (textchecks.py): each check fails on realistic wrong wording and
passes on the sentences published reports actually use.

The sentences in PUBLISHED are quoted from published 政府信息公开工作年度报告 (the
source is named beside each); each is paired with the table values it refers to
(from the report's own tables where the page shows them, else the values the
sentence states), and none may raise a finding.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from nianbao import textchecks
from nianbao.check import check_file
from nianbao.cli import main
from nianbao.config import parse_config, render_config
from nianbao.intake import IntakeData, write_intake
from nianbao.kinds import CATALOGUE, Stage
from nianbao.model import FileReport, Submission
from nianbao.rules import Where
from nianbao.schema import GB2021
from nianbao.settings import Settings
from nianbao.textchecks import TextDocument, Unit, check_text, with_batch_text

GOLDEN = Path(__file__).parent / "golden"
TEXT_CODES = {k.code for k in CATALOGUE.values() if k.stage is Stage.TEXT}


def submission(s1: str, year: int = 2025, *, s5: str = "（一）存在的问题。一是公开内容不够丰富。",
               s6: str = "本年度未收取信息处理费。本年度无其他需要报告的事项。",
               agency: str = "某某县某某局", **cells: int) -> Submission:
    """A submission whose narrative is ``s1`` and whose tables hold ``cells``.

    ``cells`` name a row of 表三 (``r1``, ``r3_4_1`` …, put in the 自然人 column), a
    cell of 表四 (``rv_keep`` …) or ``fees`` (表二's 行政事业性收费, 万元).
    """
    values: dict[str, object] = {key: (Decimal(0) if cell.type == "amount" else 0)
                                 for key, cell in GB2021.cells.items()}
    for name, value in cells.items():
        if name == "fees":
            values["t2_8.fees.amount"] = Decimal(value)
        elif name.startswith(("rv_", "ld_", "la_")):
            values[f"t4.{name}"] = value
        else:
            values[f"t3.{name}.natural"] = value
    GB2021.recompute(values)  # type: ignore[arg-type]
    return Submission(agency=agency, year=year, values=values,  # type: ignore[arg-type]
                      narrative={"s1": tuple(s1.split("\n")), "s5": (s5,), "s6": (s6,)})


def codes(sub: Submission, settings: Settings | None = None,
          document: TextDocument | None = None) -> list[str]:
    settings = settings or Settings()
    return [f.code for f in check_text(sub, Where(), settings=settings, document=document)]


def found(sub: Submission, **kw: object) -> list[tuple[str, str]]:
    return [(f.code, f.message) for f in check_text(sub, Where(), **kw)]  # type: ignore[arg-type]


# ------------------------------------------------------------------ published sentences

# The 2022 district report: results 966 + 67 + 81 + 182 + 61 + 96 = 1453 answered.
_DISTRICT_2022 = dict(r1=1423, r2=30, r3_1=966, r3_2=67, r3_3_5=81, r3_4_1=182, r3_5_2=61,
                      r3_6_3=96)
PUBLISHED: list[tuple[str, str, int, dict[str, int]]] = [
    ("获嘉县政务服务和大数据管理局 2021 (seed)", "依据《条例》的规定，对于公民、法人或其他组织提出的政府信息公开申请，"
     "做到规范受理、及时处理、认真答复。2021年，我局未收到信息公开的申请。", 2021, {}),
    ("获嘉县政务服务和大数据管理局 2021 (seed)", "2021年，我局在《新乡日报》等市级以上新闻体刊发政策及工作信息2篇，"
     "新媒体平台公开各类工作信息10条。", 2021, {}),
    ("湛江市人民政府地方志办公室 2023", "2023年，我办全年未收到行政许可申请；全年未接到信息公开申请；"
     "各栏目共刊发文稿、通知、公告、公示等44篇。", 2023, {}),
    ("湛江市人民政府地方志办公室 2023", "本报告包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
     "政府信息公开行政复议及行政诉讼情况、存在的主要问题和改进措施、其他需要报告的事项等内容，"
     "所列数据统计期限自2023年1月1日起到2023年12月31日止。", 2023, {}),
    ("某局 2023（政务服务网站）", "二是及时规范办理依申请公开。2023年，我局未收到政府信息公开申请。", 2023, {}),
    ("某局 2023（政务服务网站）", "2023年，共办理政府12345热线47件，已全部办结，回复率和满意率均达100%。",
     2023, {}),
    ("洛浦县纳瓦乡 2025", "截止 2025 年 12 月 31 日，我乡收到政府公开申请 0 条。", 2025, {}),
    ("洛浦县纳瓦乡 2025", "本年未发生因政府信息公开工作被申请行政复议、提起行政诉讼的情况。", 2025, {}),
    ("兴安盟行政公署办公室 2025", "2025年，兴安盟行署办公室共受理政府信息公开申请24件（含上年结转1件），"
     "申请人全部为公民。", 2025, dict(r1=23, r2=1, r3_1=4, r3_4_1=19, r3_5_2=1)),
    ("兴安盟行政公署办公室 2025", "经依法办理，予以公开4件，无法提供19件，另处理重复申请1件，"
     "所有申请均在法定期限内完成答复。", 2025, dict(r1=23, r2=1, r3_1=4, r3_4_1=19, r3_5_2=1)),
    ("兴安盟行政公署办公室 2025", "本报告所列数据的统计期限为2025年1月1日至2025年12月31日。", 2025, {}),
    ("兴安盟行政公署办公室 2025", "2025年，通过盟行署门户网站发布主动公开信息2130条。", 2025, {}),
    ("兴安盟行政公署办公室 2025", "根据《中华人民共和国政府信息公开条例》《国务院办公厅政府信息与政务公开办公室"
     "关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》（国办公开办函〔2021〕30号）编制本报告，"
     "全文包括政府信息公开总体情况，主动公开政府信息情况，收到和处理政府信息公开申请情况，"
     "政府信息公开行政复议、行政诉讼情况，存在的主要问题及改进情况，其他需要报告的事项。", 2025, {}),
    ("区政府 2022 依申请公开统计", "2022年，全区各职能部门、镇街共收到政府信息依申请公开1499件。", 2022,
     dict(r1=1499)),
    ("区政府 2022 依申请公开统计", "其中，通过网络申请1303件，占86.92%；通过信函申请172件，占11.47%；"
     "通过当面申请24件，占1.60%。", 2022, dict(r1=1499)),
    ("区政府 2022 依申请公开统计", "2022年，全区各职能部门、镇街共完成政府信息依申请公开答复1453件，"
     "包括上年结转信息公开申请30件。", 2022, _DISTRICT_2022),
    ("区政府 2022 依申请公开统计", "其中，予以公开答复966件，占66.48%；部分公开67，占4.61%；"
     "不予公开81件，占5.57%；无法提供的182件，占12.53%；不予处理的61件，占4.20%；其他处理96件，占6.61%。",
     2022, _DISTRICT_2022),
    ("某县信访局 2021", "2021年，我局未发生依申请公开政府信息方面的行政复议和行政诉讼。", 2021, {}),
    ("某县信访局 2021", "本年度报告中所列数据的统计期限自2021年1月1日起至2021年12月31日止。", 2021, {}),
    ("某县信访局 2021", "根据《中华人民共和国政府信息公开条例》（国务院令第711号，以下简称新《条例》）和"
     "《国务院办公厅政府信息与政务公开办公室关于印发<中华人民共和国政府信息公开工作年度报告格式>的通知》"
     "（国办公开办函〔2021〕30号）要求，由信访局结合有关统计数据编制。", 2021, {}),
    ("庆阳市人民政府政务服务中心 2023", "依申请公开受理渠道畅通，2023年度无因政府信息公开引发的行政复议、"
     "行政诉讼问题。", 2023, {}),
    ("上海市 2022", "本年度报告中所列数据统计期限为2022年1月1日至12月31日。", 2022, {}),
    ("上海市 2022", "2022年，在上海市人民政府网站、《上海市人民政府公报》主动公开市政府规章13件"
     "（含新制定5件，修改4件，废止4件），主动公开市政府和市政府办公厅行政规范性文件42件，"
     "人事任免文件106件，其他文件113件。", 2022, {}),
    ("上海市 2022", "本年度报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《上海市政府信息公开规定》"
     "（以下简称《规定》）的要求编制，全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
     "因政府信息公开工作被申请行政复议和提起行政诉讼情况、政府信息公开工作存在的主要问题及改进情况，"
     "以及其他需要报告的事项。", 2022, dict(rv_keep=5, ld_keep=3)),
    ("深圳市龙岗区某部门 2024", "本报告所列数据的统计期限为2024年1月1日至2024年12月31日。", 2024, {}),
    ("温州市人民政府办公室 2024", "根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人民共和国政府"
     "信息公开工作年度报告格式》规定编制本报告。本报告所列数据的统计期限为2024年1月1日至12月31日。", 2024, {}),
    ("温州市人民政府办公室 2024", "2024年通过市政府门户网站主动发布市政府文件13条，市政府办公室文件14条，"
     "市政府、市政府办公室行政规范性文件22条，部门行政规范性文件58条，地方性法规4条，政府规章0条；"
     "编辑出版政府公报12期。", 2024, {}),
    ("上海市普陀区 2022 上半年统计", "2022年上半年，全区各级行政机关共制发公文707件，主动公开673件，"
     "平均主动公开率为95.19%。", 2022, {}),
    ("上海市普陀区 2022 上半年统计", "2022年上半年，全区各行政机关共受理政府信息公开申请267件，答复263件，"
     "申请量比2021年同期上升1.52%。", 2022, dict(r1=267, r3_1=60, r3_2=21, r3_4_1=182)),
    ("上海市普陀区 2022 上半年统计", "其中同意公开或部分公开共81件，公开率为30.80%。", 2022,
     dict(r1=267, r3_1=60, r3_2=21, r3_4_1=182)),
    ("上海市普陀区 2022 上半年统计", "2022年上半年，全区共发生涉及政府信息公开的行政诉讼案件2件，被纠错0件。",
     2022, dict(ld_keep=1, ld_pending=1)),
    ("长春市某局 2023", "截止2023年12月31日我局通过官方网站发布政务类信息34条，概况类信息150条。", 2023, {}),
    ("某区统计局 2023", "2023年，我局认真梳理，主动在门户网站公开政府信息50条。", 2023, {}),
    ("湛江市人民政府地方志办公室 2023", "2023年，我办坚持以习近平新时代中国特色社会主义思想为指导，"
     "全面贯彻党的二十大精神，深入贯彻中央、省、市政务公开部署要求。", 2023, {}),
    ("issue 10 (sentence real reports use)", "全年未发生因依申请公开被行政复议纠错或行政诉讼败诉的情形。", 2025,
     dict(r1=12, r3_1=12, rv_keep=3, ld_keep=1, la_pending=1)),
    ("兴安盟行政公署办公室 2025（上年结转与新收）", "2025年，兴安盟行署办公室共受理政府信息公开申请24件"
     "（含上年结转1件），申请人全部为公民。经依法办理，予以公开4件，无法提供19件，另处理重复申请1件。",
     2025, dict(r1=23, r2=1, r3_1=4, r3_4_1=19, r3_5_2=1)),
]


def test_textchecks_there_are_at_least_30_published_sentences() -> None:
    assert len(PUBLISHED) >= 30
    assert len({text for _, text, _, _ in PUBLISHED}) == len(PUBLISHED)


@pytest.mark.parametrize(("source", "text", "year", "cells"), PUBLISHED,
                         ids=[f"{i:02d}" for i in range(len(PUBLISHED))])
def test_textchecks_published_sentences_agreeing_with_their_tables_raise_nothing(
        source: str, text: str, year: int, cells: dict[str, int]) -> None:
    assert found(submission(text, year, **cells)) == [], source


def test_textchecks_the_seed_report_gives_no_text_warning(tmp_path: Path) -> None:
    seed = json.loads((GOLDEN / "seed-2021-input.json").read_text(encoding="utf-8"))
    path = tmp_path / "seed.xlsx"
    write_intake(path, IntakeData(agency=seed["agency"], year=seed["year"], level="县级部门",
                                  values={k: 0 for k in GB2021.input_keys},
                                  narrative=seed["narrative"]))

    report = check_file(path, Settings(expected_year=2021))

    assert [f for f in report.findings if f.code in TEXT_CODES] == []
    assert report.submission is not None and report.submission.narrative["s1"]


# ------------------------------------------------------------------ numbers against the tables

def test_textchecks_received_count_that_disagrees_is_flagged() -> None:
    # 长春市某局 2023 wrote “共受理……2件” while its 表三 shows 3 new applications.
    sub = submission("本年度，共受理政府信息公开申请2件，都在法定期限内予以答复。", 2023, r1=3, r3_1=3)

    assert codes(sub) == ["text-number-mismatch"]
    assert codes(submission("本年度，共受理政府信息公开申请3件，都在法定期限内予以答复。", 2023,
                            r1=3, r3_1=3)) == []


def test_textchecks_result_category_count_is_read_against_its_rows() -> None:
    text = "经依法办理，予以公开4件，无法提供19件，另处理重复申请1件，所有申请均在法定期限内完成答复。"
    wrong = submission(text, r1=24, r3_1=4, r3_4_1=18, r3_4_2=0, r3_5_2=1, r3_6_3=1)

    got = found(wrong)

    assert [c for c, _ in got] == ["text-number-mismatch"]
    assert "表三“（四）无法提供”为 18 件" in got[0][1]


def test_textchecks_share_is_recomputed_from_the_counts() -> None:
    right = "其中，予以公开答复966件，占66.48%；不予公开81件，占5.57%。"
    wrong = "其中，予以公开答复966件，占76.48%；不予公开81件，占5.57%。"

    assert codes(submission(right, 2022, **_DISTRICT_2022)) == []
    got = found(submission(wrong, 2022, **_DISTRICT_2022))
    assert [c for c, _ in got] == ["text-number-mismatch"]
    assert "应为 66.48%" in got[0][1]


def test_textchecks_open_and_partly_open_together() -> None:
    text = "其中予以公开及部分公开32件（66.67%），无法提供10件，不予处理6件。"
    cells = dict(r1=48, r3_1=20, r3_2=12, r3_4_1=10, r3_5_1=6)

    assert codes(submission(text, **cells)) == []
    assert codes(submission(text, **{**cells, "r3_2": 11, "r3_6_3": 1})) == ["text-number-mismatch"]


def test_textchecks_review_breakdown_and_all_kept_claim() -> None:
    text = "全年因政府信息公开被申请行政复议3件，均获维持；被提起行政诉讼1件，尚未审结。"

    assert codes(submission(text, rv_keep=3, ld_pending=1)) == []
    got = found(submission(text, rv_keep=2, rv_correct=1, ld_pending=1))
    assert [c for c, _ in got] == ["text-number-mismatch"]
    assert "并非全部维持" in got[0][1]
    assert codes(submission(text, rv_keep=3, ld_pending=2)) == ["text-number-mismatch"]  # 1 suit


def test_textchecks_a_denial_of_corrections_is_not_a_denial_of_cases() -> None:
    text = "全年未发生因依申请公开被行政复议纠错或行政诉讼败诉的情形。"

    assert codes(submission(text, rv_keep=4, ld_keep=2)) == []
    got = found(submission(text, rv_keep=3, rv_correct=1))
    assert [c for c, _ in got] == ["text-zero-claim"]
    assert "行政复议结果纠正 1 件" in got[0][1]


def test_textchecks_no_cases_claim_against_table_four() -> None:
    text = "本年未发生因政府信息公开工作被申请行政复议、提起行政诉讼的情况。"

    got = found(submission(text, rv_keep=1))

    assert [c for c, _ in got] == ["text-zero-claim"]
    assert "行政复议 1 件" in got[0][1]
    assert codes(submission("全年被申请行政复议1件，未发生行政诉讼。", rv_keep=1)) == []


def test_textchecks_another_scope_is_a_softer_note() -> None:
    text = "2025年，市政府办公厅代表市政府受理政府信息公开申请156件，均按时答复。"

    got = codes(submission(text, r1=40, r3_1=40))

    assert got == ["text-other-scope"]
    assert codes(submission(text, r1=156, r3_1=156)) == []


def test_textchecks_fee_notice_is_read_against_table_three_not_table_two() -> None:
    right = "本年度向2名申请人发出收费通知，申请人逾期未缴纳，未收取信息处理费。"
    denied = "本年度未发出收费通知，未收取信息处理费。"

    assert codes(submission("全年共收到政府信息公开申请5件。", s6=right, r1=5, r3_1=3, r3_6_2=2,
                            fees=5)) == []
    assert codes(submission("全年共收到政府信息公开申请5件。", s6=denied, r1=5, r3_1=3, r3_6_2=2)) \
        == ["text-number-mismatch"]
    # 表二's 行政事业性收费 is a different thing: no 信息处理费 claim is compared with it
    assert codes(submission("全年共收到政府信息公开申请5件。", s6="本年度收取信息处理费0元。", r1=5,
                            r3_1=5, fees=12)) == []


def test_textchecks_numbers_switch() -> None:
    sub = submission("本年度，共受理政府信息公开申请2件。", r1=3, r3_1=3)

    assert codes(sub, Settings(text_numbers=False)) == []


# ------------------------------------------------------------------ dates

@pytest.mark.parametrize("text", [
    "本报告中所列数据统计期限为20251月1日至12月31日。",
    "本报告中所列数据统计期限为2025年1月1日至202512月31日。",
    "（2017210日）",
    "截至2025年2月30日，共发布信息120条。",
])
def test_textchecks_malformed_dates(text: str) -> None:
    assert codes(submission(text)) == ["text-date-malformed"]


def test_textchecks_a_period_of_another_year() -> None:
    got = found(submission("本报告中所列数据统计期限为2024年1月1日至12月31日。"))

    assert [c for c, _ in got] == ["text-date-year"]
    assert "2024 年" in got[0][1] and "2025 年度" in got[0][1]
    assert codes(submission("2024年，我局在县委、县政府的正确领导下，扎实推进政务公开工作。")) == [
        "text-date-year"]
    assert codes(submission("本报告中所列数据统计期限为2025年1月1日至12月31日。")) == []
    assert codes(submission("2024年度部门决算已于2025年9月公开。")) == []
    assert codes(submission("（一）主动公开情况。及时发布2024年统计数据公报和统计年鉴。")) == []


def test_textchecks_dates_switch() -> None:
    assert codes(submission("统计期限为20251月1日至12月31日。"), Settings(text_dates=False)) == []


# ------------------------------------------------------------------ old-format traces

def test_textchecks_old_format_citation() -> None:
    text = ("根据《国务院办公厅政府信息与政务公开办公室关于政府信息公开工作年度报告有关事项的通知》"
            "（国办公开办函〔2019〕60号）要求，编制本报告。")

    assert codes(submission(text, 2023)) == ["text-old-format"]
    assert codes(submission(text, 2020)) == []  # a 2020 report rightly followed 60号
    assert codes(submission(text.replace("〔2019〕60号", "〔2021〕30号"), 2023)) == []


def test_textchecks_old_format_labels_and_normative_documents() -> None:
    # 庆阳市人民政府政务服务中心 2023 wrote “规范性文件” for the format's “行政规范性文件”
    normative = "（四）解读回应方面。2023年未制定规范性文件，未提请市政府印发规范性文件。"
    got = found(submission(normative, 2023))

    assert [c for c, _ in got] == ["text-old-format"]
    assert "共 2 处" in got[0][1]
    assert codes(submission("本年度制发行政规范性文件3件。", 2023)) == []
    assert codes(submission("行政许可上一年项目数量12项，本年增/减2项。", 2023)) == [
        "text-old-format", "text-old-format"]
    assert codes(submission(normative, 2023), Settings(text_old_format=False)) == []


# ------------------------------------------------------------------ the count of parts

def test_textchecks_stated_count_of_parts() -> None:
    # 某区统计局 2023: six parts stated, five listed
    five = ("本报告由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、存在问题及改进情况、"
            "其他需要报告的事项等六部分组成。")
    six = ("本报告由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和"
           "行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项六部分组成。")

    got = found(submission(five, 2023))
    assert [c for c, _ in got] == ["text-parts-count"]
    assert "列举的只有 5 项" in got[0][1]
    assert codes(submission(six, 2023)) == []
    present = TextDocument(preface=(six,), sections=("s1", "s2", "s3", "s5", "s6"))
    assert codes(submission("无。", 2023), document=present) == ["text-parts-count"]
    assert codes(submission(five, 2023), Settings(text_parts=False)) == []


def test_textchecks_an_imported_report_and_its_preface(tmp_path: Path) -> None:
    from nianbao.importer.read import import_file

    seed = Path(__file__).parent / "fixtures" / "import" / "seed-report-2021.txt"
    clean = import_file(seed).report
    lines = seed.read_text(encoding="utf-8").split("\n")
    title = next(i for i, line in enumerate(lines) if line.strip())
    lines.insert(title + 1, "本报告中所列数据统计期限为2021年1月1日至202112月31日。")
    path = tmp_path / "report.txt"
    path.write_text("\n".join(lines), encoding="utf-8")

    report = import_file(path).report

    assert clean.submission is not None
    assert [f for f in clean.findings if f.code in TEXT_CODES] == []  # the seed as published
    malformed = [f for f in report.findings if f.code == "text-date-malformed"]
    assert len(malformed) == 1 and "报告开头" in malformed[0].message


# ------------------------------------------------------------------ batch: agency, 雷同

def _report(tmp_path: Path, agency: str, s1: tuple[str, ...], code: str = "") -> FileReport:
    sub = submission("\n".join(s1), agency=agency)
    return FileReport(file=tmp_path / f"{agency}.xlsx", submission=sub, findings=(),
                      form_code=code)


def test_textchecks_narrative_naming_another_unit_as_its_subject() -> None:
    copied = Unit(agency="临河县民政局", narrative={"s1": (
        "2025年，临河县教育局在县委、县政府的正确领导下，认真贯彻落实《条例》。",)})
    mentioned = Unit(agency="临河县民政局", narrative={"s1": (
        "2025年，我局会同临河县教育局开展困难学生救助信息公开。",)})
    others = ["临河县教育局", "临河县民政局"]

    got = list(textchecks.other_agency_findings(copied, others, Settings()))

    assert [f.code for f in got] == ["text-agency-other"]
    assert "临河县教育局" in got[0].message and "临河县民政局" in got[0].message
    assert list(textchecks.other_agency_findings(mentioned, others, Settings())) == []


def test_textchecks_a_government_names_its_departments(tmp_path: Path) -> None:
    text = "2025年，临河县教育局在全县率先完成政务公开标准目录编制。"
    department = _report(tmp_path, "临河县民政局", (text,), "A1")
    county = _report(tmp_path, "临河县人民政府", (text,), "G1")
    names = [("临河县教育局",), ("临河县民政局",), ("临河县人民政府",)]

    got = with_batch_text([department, county], Settings(), roster_names=names)

    assert [f.code for f in got[0].findings] == ["text-agency-other"]
    assert got[1].findings == ()


_LONG = ("2025年，本机关坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神，"
         "认真落实《中华人民共和国政府信息公开条例》，围绕中心工作，持续深化重点领域信息公开，"
         "加强政策解读和回应关切，规范依申请公开办理，政务公开标准化规范化水平不断提升。"
         "全年通过政府网站主动公开政府信息三百余条，更新政府信息公开指南和目录，"
         "组织业务培训两次，将政务公开纳入年度目标考核。")


def test_textchecks_similar_sections_in_a_batch_and_to_last_year(tmp_path: Path) -> None:
    a = _report(tmp_path, "临河县民政局", (_LONG,), "A1")
    b = _report(tmp_path, "临河县教育局", (_LONG.replace("三百余条", "二百余条"),), "B1")
    c = _report(tmp_path, "临河县财政局", ("2025年，本局按照县政府统一部署推进财政预决算公开，"
                                         "全年公开部门预算、决算和三公经费信息，" * 3,), "C1")
    last = submission(_LONG.replace("2025", "2024"), 2024, agency="临河县财政局")
    last = dataclasses.replace(last, source=tmp_path / "2024" / "财政局.xlsx")

    out = with_batch_text([a, b, c], Settings(), last_of=lambda r: last if r is c else None)

    similar = {r.agency: [f for f in r.findings if f.code == "text-similar"] for r in out}
    assert len(similar["临河县民政局"]) == 1 and "临河县教育局" in similar["临河县民政局"][0].message
    assert len(similar["临河县教育局"]) == 1
    assert similar["临河县财政局"] == []  # its text differs from last year's
    assert similar["临河县民政局"][0].cell is not None  # points at the 基本信息 row
    same_as_last = dataclasses.replace(last, narrative=c.submission.narrative)  # type: ignore[union-attr]
    out = with_batch_text([c], Settings(), last_of=lambda r: same_as_last)
    got = [f for f in out[0].findings if f.code == "text-similar"]
    assert len(got) == 1 and "2024年" in got[0].message and "财政局.xlsx" in got[0].message
    assert with_batch_text([a, b], Settings(text_similar=False))[0].findings == ()
    assert with_batch_text([a, b], Settings(similar_threshold=0.999))[0].findings == ()


def test_textchecks_two_versions_of_one_units_file_are_not_similar(tmp_path: Path) -> None:
    a = _report(tmp_path, "临河县民政局", (_LONG,), "A1")
    b = dataclasses.replace(a, file=tmp_path / "民政局（修改后）.xlsx")

    assert [r.findings for r in with_batch_text([a, b], Settings())] == [(), ()]


def test_textchecks_check_command_reports_similar_units(tmp_path: Path) -> None:
    for agency, code in (("临河县民政局", "A1"), ("临河县教育局", "B1")):
        write_intake(tmp_path / f"{agency}.xlsx", IntakeData(
            agency=agency, code=code, year=2025, level="县级部门",
            values={k: 0 for k in GB2021.input_keys},
            narrative={"s1": [_LONG], "s5": ["一是公开内容不够丰富。"],
                       "s6": ["本年度无其他需要报告的事项。"]}))

    result = CliRunner().invoke(main, ["check", "--json", str(tmp_path)])

    got = json.loads(result.output)
    assert sorted(sum(f["code"] == "text-similar" for f in r["findings"]) for r in got) == [1, 1]


def test_textchecks_switches_live_in_nianbao_toml() -> None:
    text = render_config(year=2025, roster="名单.csv", summary_name="某县", template=None)
    assert "[text]" in text
    text = text.replace("similar = true", "similar = false").replace(
        "similar_threshold = 0.9", "similar_threshold = 0.8").replace("dates = true", "dates = false")

    settings = parse_config(tomllib.loads(text), Path("nianbao.toml")).settings

    assert (settings.text_similar, settings.similar_threshold, settings.text_dates) == (
        False, 0.8, False)
    assert settings.text_numbers and settings.text_agency and settings.text_parts


def test_textchecks_every_text_kind_has_a_switch_or_is_an_empty_section() -> None:
    for kind in CATALOGUE.values():
        if kind.stage is Stage.TEXT and kind.code != "narrative-empty":
            assert kind.switch and kind.switch.startswith("text_"), kind.id


def _longest_first(names: set[str], text: str) -> list[tuple[int, int, str]]:
    """The reference: at each place try every name length, longest first."""
    out, i, sizes = [], 0, sorted({len(n) for n in names}, reverse=True)
    while i < len(text):
        for size in sizes:
            if i + size <= len(text) and text[i:i + size] in names:
                out.append((i, i + size, text[i:i + size]))
                i += size
                break
        else:
            i += 1
    return out


def test_name_finder_finds_what_trying_every_length_finds() -> None:
    import random

    from nianbao.textchecks import NameFinder

    rng = random.Random(5)
    for _ in range(2000):
        # names may hold what a character class would take as syntax (] ^ - \)
        alphabet = rng.choice(("东西南北县局", "]^-\\东局"))[: rng.randint(2, 6)]
        names = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5)))
                 for _ in range(rng.randint(1, 8))}
        # and texts hold characters no name starts with, which the finder skips
        text = "".join(rng.choice(alphabet + "，的年") for _ in range(rng.randint(0, 40)))
        assert list(NameFinder(names).finditer(text)) == _longest_first(names, text), (names, text)


def test_sketches_made_in_the_workers_find_what_the_batch_finds_itself(tmp_path: Path) -> None:
    """`check` reads in worker processes and makes each report's 雷同 sketches there; the
    batch check then only compares them, with the same findings as making them itself."""
    from nianbao.check import check_files

    base = {"s5": ["一是公开内容不够丰富。"], "s6": ["本年度无其他需要报告的事项。"]}
    texts = {"临河县民政局": _LONG, "临河县教育局": _LONG.replace("三百", "二百"),  # 雷同
             "临河县财政局": "2025年，本局按照县政府统一部署推进财政预决算公开，全年公开部门预算。" * 5,
             "临河县水利局": "全年围绕防汛抗旱和水资源管理，主动公开水利工程建设项目和河湖长制信息。" * 5}
    for i, (agency, text) in enumerate(texts.items()):
        write_intake(tmp_path / f"{agency}.xlsx", IntakeData(
            agency=agency, code=f"C{i}", year=2025, level="县级部门",
            values={k: 0 for k in GB2021.input_keys}, narrative=dict(base, s1=[text])))
    files = sorted(tmp_path.glob("*.xlsx"))

    made = check_files(files, Settings(), jobs=2, parallel_from=1)
    plain = [dataclasses.replace(r, sketches={}) for r in made]

    assert all(set(r.sketches) == {"s1"} for r in made)  # s5, s6: too short to compare
    found = [[f.message for f in r.findings] for r in with_batch_text(made, Settings())]
    assert found == [[f.message for f in r.findings] for r in with_batch_text(plain, Settings())]
    assert sum("几乎相同" in m for messages in found for m in messages) == 2  # the pair
