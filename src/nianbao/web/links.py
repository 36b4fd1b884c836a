"""Each unit's own link: ``{base_url}/u/{token}``, derived from the workspace key.

:func:`open_database` migrates the database and syncs the roster (what every
entry point does first); :func:`unit_links` issues tokens to units that have none
and returns every unit's link; :func:`rotate` gives one unit a new link and
revokes the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from nianbao.config import Config
from nianbao.db import engine_for, migrate, store
from nianbao.roster import Roster, read_roster
from nianbao.web.secrets_store import link_token, server_key

LINK_PATH = "/u/"


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    code: str
    name: str
    url: str


def open_database(config: Config, roster: Roster | None = None) -> Engine:
    """The workspace's engine, migrated, units synced to the roster (the caller disposes it)."""
    engine = engine_for(config)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            store.sync_units(conn, roster or read_roster(config.roster))
    except BaseException:
        engine.dispose()  # the caller never gets it: no connection may outlive the failure
        raise
    return engine


def _url(config: Config, token: str) -> str:
    return f"{config.base_url or ''}{LINK_PATH}{token}"


def unit_links(config: Config, engine: Engine, roster: Roster) -> list[Link]:
    """Every roster unit's link; units without a token get one (generation 1)."""
    key = server_key(config.root)
    out = []
    with engine.begin() as conn:
        for unit in roster:
            gen = store.generation(conn, unit.code)
            if gen == 0:
                gen = 1
                store.store_token(conn, unit.code, link_token(key, unit.code, gen), gen)
            out.append(Link(code=unit.code, name=unit.name,
                            url=_url(config, link_token(key, unit.code, gen))))
    return out


def rotate(config: Config, engine: Engine, code: str, *, actor: str = "cli") -> Link | None:
    """A new link for ``code`` (the old one stops working); None for an unknown unit."""
    key = server_key(config.root)
    with engine.begin() as conn:
        found = store.unit(conn, code)
        if found is None:
            return None
        gen = store.generation(conn, code) + 1
        token = link_token(key, code, gen)
        store.store_token(conn, code, token, gen)
        store.audit(conn, actor, "link-rotated", unit_code=code, detail=f"第 {gen} 代链接")
    return Link(code=code, name=str(found["name"]), url=_url(config, token))


def links_for_outputs(config: Config, roster: Roster) -> dict[str, str]:
    """Unit code -> link for the feedback texts and 催报名单; empty without ``base_url``."""
    if not config.base_url:
        return {}
    engine = open_database(config, roster)
    try:
        return {link.code: link.url for link in unit_links(config, engine, roster)}
    finally:
        engine.dispose()


def write_links_xlsx(path: Path, links: list[Link]) -> Path:
    """links.xlsx: 编码, 单位, 链接 (one row per unit), written atomically."""
    from openpyxl import Workbook

    from nianbao.atomic import atomic_write

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "报送链接"
    sheet.append(["编码", "单位", "链接"])
    for link in links:
        sheet.append([link.code, link.name, link.url])
    sheet.column_dimensions["B"].width = 36
    sheet.column_dimensions["C"].width = 80
    with atomic_write(path) as tmp:
        book.save(tmp)
    return path
