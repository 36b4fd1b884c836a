"""The online hand-in commands: ``serve``, ``links``, ``password`` (added to ``nianbao``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from nianbao.cli_cycle import _config, edge, workspace_option


@click.command("serve")
@workspace_option
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（内网访问可用 0.0.0.0，建议放在 nginx 后面）。")
@click.option("--port", default=8000, show_default=True, type=int, help="端口。")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Web 进程数；多于 1 个时建议使用 PostgreSQL（nianbao.toml 的 database_url）。")
@click.option("--max-upload-mb", default=10, show_default=True, type=click.IntRange(1, 200),
              help="上传文件大小上限（MB）。")
@click.option("--proxy", is_flag=True, help="在 nginx 等反向代理后面运行：信任本机代理传来的客户端地址和 https。")
def serve_cmd(workspace: Path | None, host: str, port: int, workers: int, max_upload_mb: int,
              proxy: bool) -> None:
    """启动网上报送服务：各单位用专用链接上传填报表，立即看到校验结果和报告草稿；协调人在 /admin 审核。

    首次使用前先设置协调人密码（nianbao password），再用 nianbao links 导出各单位的链接。
    数据库默认是工作区中的 nianbao.sqlite3；nianbao.toml 设置 database_url 时使用 PostgreSQL。

    \b
    示例：
      nianbao password
      nianbao serve --host 0.0.0.0 --port 8000
      nianbao serve --proxy --workers 4      # 在 nginx 后面，PostgreSQL
    """
    import uvicorn

    from nianbao.web.app import ENV_MAX_MB, ENV_WORKSPACE
    from nianbao.web.links import open_database

    config = _config(workspace)
    with edge():
        open_database(config).dispose()  # migrate once before the workers start
    os.environ[ENV_WORKSPACE] = str(config.path or config.root)
    os.environ[ENV_MAX_MB] = str(max_upload_mb)
    click.echo(f"网上报送服务：http://{host}:{port}/（协调人：/admin）；按 Ctrl+C 停止。")
    uvicorn.run("nianbao.web.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, access_log=False, proxy_headers=proxy,
                forwarded_allow_ips="127.0.0.1" if proxy else None, log_level="info",
                timeout_graceful_shutdown=30)


@click.command("links")
@workspace_option
@click.option("--rotate", "rotate_code", metavar="编码", default=None,
              help="为该单位换发新链接，旧链接立即失效（链接泄露时使用）。")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="导出到 Excel 文件（编码、单位、链接）。")
def links_cmd(workspace: Path | None, rotate_code: str | None, output: Path | None) -> None:
    """列出或导出各单位的网上报送链接（每个单位一个，用于催报通知）。

    链接地址的前缀取 nianbao.toml 的 base_url（如 https://nianbao.example.gov.cn）。

    \b
    示例：
      nianbao links
      nianbao links -o 报送链接.xlsx
      nianbao links --rotate QS005
    """
    from nianbao.roster import read_roster
    from nianbao.web.links import open_database, rotate, unit_links, write_links_xlsx

    config = _config(workspace)
    with edge():
        engine = open_database(config)
        try:
            if rotate_code is not None:
                link = rotate(config, engine, rotate_code)
                if link is None:
                    raise click.UsageError(f"名单中没有编码为“{rotate_code}”的单位。")
                click.echo(f"已为 {link.code} {link.name} 换发新链接（旧链接已失效）：\n{link.url}")
                return
            links = unit_links(config, engine, read_roster(config.roster))
        finally:
            engine.dispose()
        if output is not None:
            write_links_xlsx(output, links)
            click.echo(f"已导出 {len(links)} 个单位的链接：{output}")
        else:
            for one in links:
                click.echo(f"{one.code}\t{one.name}\t{one.url}")
    if not config.base_url:
        click.echo("提示：nianbao.toml 未设置 base_url，链接只有路径部分。", err=True)


@click.command("password")
@workspace_option
@click.option("--stdin", "from_stdin", is_flag=True, help="从标准输入读取密码（用于脚本）。")
def password_cmd(workspace: Path | None, from_stdin: bool) -> None:
    """设置协调人登录 /admin 的密码（只保存加盐散列，在工作区的 .nianbao-admin 中）。

    \b
    示例：
      nianbao password
      echo '新密码' | nianbao password --stdin
    """
    from nianbao.web.secrets_store import set_password

    config = _config(workspace)
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次")
    if len(password) < 10:
        raise click.UsageError("密码至少 10 个字符。")
    path = set_password(config.root, password)
    click.echo(f"已设置协调人密码（{path.name}）。")


def register(group: click.Group) -> None:
    """Add the online hand-in commands to the ``nianbao`` group."""
    for command in (serve_cmd, links_cmd, password_cmd):
        group.add_command(command)
