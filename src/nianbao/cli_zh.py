"""click's own texts in Chinese: help ("Usage:", "Options:", "Show this message and exit.")
and the usage errors it raises.

click marks these strings for gettext (``from gettext import gettext as _`` in each
module) but ships no catalogues, and gettext reads catalogues only from ``.mo``
files.  :func:`install` points click's ``_``/``ngettext`` at :data:`CATALOGUE`
instead and gives the parameter types Chinese names (the metavars of ``--help``).
A string missing from the catalogue (a newer click) stays in English: never a crash.
:class:`ChineseHelpFormatter` lays help out by display width (a Chinese character
takes two columns) and joins a docstring's lines without the space click puts
between them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types
import click.utils
from rich.cells import cell_len

CATALOGUE: dict[str, str] = {
    "Aborted!": "已取消。",
    "deprecated": "已弃用",
    "Options": "选项",
    "Positional arguments": "参数",
    "Commands": "命令",
    "Missing command.": "缺少命令。",
    "Value must be an iterable.": "值必须是一组值。",
    "env var: {var}": "环境变量：{var}",
    "default: {default}": "默认：{default}",
    "(dynamic)": "（动态）",
    "required": "必填",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不再询问，直接确认。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Show the version and exit.": "显示版本号并退出。",
    "Show this message and exit.": "显示本帮助并退出。",
    "Usage:": "用法：",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "查看帮助：{command} {option}",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "unknown error": "未知错误",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "Invalid start character for option ({option})": "选项的首字符无效（{option}）",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 后面不能带值。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在 {range} 范围内。",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，不是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 无法执行。",
    # ngettext pairs: click passes the fields of both forms, so one text serves both
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 {len} 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
    "Did you mean {possibility}?": "是不是 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是不是其中之一：{possibilities}？）",
    "Option {name!r} requires an argument.": "选项 {name!r} 后面需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 后面需要 {nargs} 个值。",
    "{value!r} is not {choice}.": "{value!r} 不是可选值 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不是可选值之一：{choices}。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {format}。",
    "{value!r} does not match the formats {formats}.": "{value!r} 不符合格式 {formats}。",
    "{len_type} values are required, but {len_value} was given.":
        "需要 {len_type} 个值，给了 {len_value} 个。",
    "{len_type} values are required, but {len_value} were given.":
        "需要 {len_type} 个值，给了 {len_value} 个。",
}
TYPE_NAMES: dict[type[click.ParamType[object]], str] = {click.types.StringParamType: "文本", click.types.IntParamType: "整数",
              click.types.IntRange: "整数", click.types.FloatParamType: "数字",
              click.types.FloatRange: "数字", click.types.BoolParamType: "是/否",
              click.types.Choice: "选项", click.types.DateTime: "日期时间"}
_MODULES = (click.core, click.decorators, click.exceptions, click.formatting, click.parser,
            click.termui, click.types, click.utils)


def gettext(message: str) -> str:
    return CATALOGUE.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    english = singular if n == 1 else plural
    return CATALOGUE.get(english, english)


_TOKEN = re.compile(r"[\x21-\x7e]+|\s+|.", re.S)  # an ASCII word, a space run, one character
_NO_LINE_START = set("，。、；：？！）》」』”’%")
_USAGE_WORDS = (("[OPTIONS]", "[选项]"), ("COMMAND [ARGS]...", "命令 [参数]..."))
# the arguments of nianbao's commands, named in usage lines by their upper-cased name
ARGUMENT_NAMES = {"PATHS": "文件或文件夹", "INPUTS": "填报表或文件夹", "PATH": "文件",
                  "DIRECTORY": "工作区文件夹", "SOURCE": "台账文件"}
_ARGUMENT = re.compile(r"\b(" + "|".join(ARGUMENT_NAMES) + r")\b")


def wrap_cells(text: str, width: int, indent: str = "") -> list[str]:
    """``text`` (one paragraph) in lines of at most ``width`` columns, each after ``indent``.

    Lines break between Chinese characters or at spaces, never inside an ASCII word
    and never before closing punctuation.
    """
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if tokens and token in _NO_LINE_START:
            tokens[-1] += token
        else:
            tokens.append(token)
    room = max(10, width - cell_len(indent))
    lines: list[str] = []
    line = ""
    for token in tokens:
        if line and cell_len(line + token) > room and not token.isspace():
            lines.append(indent + line.rstrip())
            line = ""
        if not line and token.isspace():
            continue
        line += token
    if line.strip():
        lines.append(indent + line.rstrip())
    return lines or [indent.rstrip()]


def _join_lines(paragraph: str) -> str:
    """A docstring paragraph on one line: no space where a Chinese line was broken."""
    out = ""
    for line in (x.strip() for x in paragraph.splitlines()):
        if out and line and (out[-1].isascii() and line[0].isascii()):
            out += " "
        out += line
    return out


class ChineseHelpFormatter(click.HelpFormatter):
    """click's help layout, measured in terminal columns, with Chinese headings."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english, chinese in _USAGE_WORDS:
            args = args.replace(english, chinese)
        args = _ARGUMENT.sub(lambda m: ARGUMENT_NAMES[m.group(1)], args)
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        out: list[str] = []
        for paragraph in re.split(r"\n\s*\n", text.strip("\n")):
            if out:
                out.append("")
            if paragraph.lstrip().startswith("\b"):  # click's "keep these lines as they are"
                out += [indent + line for line in paragraph.lstrip()[1:].strip("\n").splitlines()]
            else:
                out += wrap_cells(_join_lines(paragraph), self.width, indent)
        self.write("\n".join(out) + "\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30,
                 col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((cell_len(a) for a, _ in rows), default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        for first, second in rows:
            lines = wrap_cells(_join_lines(second), self.width, " " * (self.current_indent
                                                                      + first_col))
            if not second:
                self.write(f"{indent}{first}\n")
            elif cell_len(first) <= first_col - col_spacing:
                pad = " " * (first_col - cell_len(first))
                self.write(f"{indent}{first}{pad}{lines[0].lstrip()}\n")
                self.write("".join(line + "\n" for line in lines[1:]))
            else:
                self.write(f"{indent}{first}\n" + "".join(line + "\n" for line in lines))


def install() -> None:
    """Make click speak Chinese (idempotent); call before any command is declared."""
    for module in _MODULES:
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    for cls, name in TYPE_NAMES.items():
        cls.name = name
    click.Context.formatter_class = ChineseHelpFormatter
