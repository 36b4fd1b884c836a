"""Reading and writing the service's records; every function takes an open connection.

The caller owns the transaction (``with engine.begin() as conn: ...``), so a
submission row and its audit entry commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, and_, func, insert, select, update

from nianbao.db.tables import audit_log, link_tokens, reviews, submissions, units
from nianbao.model import FileReport, Severity
from nianbao.roster import Roster


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Verdict(enum.StrEnum):
    OK = "ok"
    WARNINGS = "warnings"
    ERRORS = "errors"
    UNREADABLE = "unreadable"

    @property
    def zh(self) -> str:
        return {"ok": "通过", "warnings": "有警告", "errors": "有错误",
                "unreadable": "无法读取"}[self.value]

    @property
    def accepted(self) -> bool:
        return self in (Verdict.OK, Verdict.WARNINGS)

    @classmethod
    def of(cls, report: FileReport) -> Verdict:
        if report.submission is None:
            return cls.UNREADABLE
        if not report.valid:
            return cls.ERRORS
        return cls.WARNINGS if report.warnings else cls.OK


class Review(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"

    @property
    def zh(self) -> str:
        return {"pending": "待审核", "approved": "已通过", "returned": "退回修改"}[self.value]


class UnitState(enum.StrEnum):
    """A unit's place on the coordinator's board (the filters)."""

    MISSING = "missing"
    ERRORS = "errors"
    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"

    @property
    def zh(self) -> str:
        return {"missing": "未报送", "errors": "有错误", "pending": "待审核",
                "approved": "已通过", "returned": "退回修改"}[self.value]


# -- units and links --------------------------------------------------------------------

def sync_units(conn: Connection, roster: Roster) -> None:
    """Make the units table match the roster (units that left it become inactive)."""
    existing = {row.code: row for row in conn.execute(select(units))}
    stamp = now()
    for unit in roster:
        values = {"name": unit.name, "level": unit.level, "contact": unit.contact,
                  "phone": unit.phone, "active": True}
        row = existing.pop(unit.code, None)
        if row is None:
            conn.execute(insert(units).values(code=unit.code, updated_at=stamp, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            conn.execute(update(units).where(units.c.code == unit.code)
                         .values(updated_at=stamp, **values))
    for code, row in existing.items():
        if row.active:
            conn.execute(update(units).where(units.c.code == code)
                         .values(active=False, updated_at=stamp))


def token_hash(token: str) -> str:
    """Tokens carry ≥128 random bits, so a plain SHA-256 is a safe one-way hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generation(conn: Connection, code: str) -> int:
    """The current link generation of a unit (0: no link issued yet)."""
    value = conn.execute(select(func.max(link_tokens.c.generation))
                         .where(link_tokens.c.unit_code == code)).scalar()
    return int(value or 0)


def store_token(conn: Connection, code: str, token: str, gen: int) -> None:
    """Record the hash of a unit's link token; older generations are revoked."""
    stamp = now()
    conn.execute(update(link_tokens).where(and_(link_tokens.c.unit_code == code,
                                                link_tokens.c.revoked_at.is_(None)))
                 .values(revoked_at=stamp))
    conn.execute(insert(link_tokens).values(unit_code=code, token_hash=token_hash(token),
                                            generation=gen, created_at=stamp))


def unit_for_token(conn: Connection, token: str) -> str | None:
    """The active unit a token belongs to, or None (compared in constant time)."""
    wanted = token_hash(token)
    row = conn.execute(
        select(link_tokens.c.token_hash, link_tokens.c.unit_code)
        .join(units, units.c.code == link_tokens.c.unit_code)
        .where(link_tokens.c.token_hash == wanted, link_tokens.c.revoked_at.is_(None),
               units.c.active.is_(True))).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    return str(row.unit_code)


# -- submissions and reviews ------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class NewSubmission:
    unit_code: str
    received_at: dt.datetime
    sha256: str
    size: int
    original_name: str
    stored_path: str  # relative to the workspace, with forward slashes
    report: FileReport
    source: str = "web"


def findings_json(report: FileReport) -> str:
    return json.dumps([f.to_dict() for f in report.findings], ensure_ascii=False)


def add_submission(conn: Connection, new: NewSubmission) -> int:
    report = new.report
    errors = sum(1 for f in report.findings if f.severity is Severity.ERROR)
    result = conn.execute(insert(submissions).values(
        unit_code=new.unit_code, received_at=new.received_at, sha256=new.sha256,
        size=new.size, original_name=new.original_name[:255], stored_path=new.stored_path,
        verdict=str(Verdict.of(report)), errors=errors,
        warnings=len(report.findings) - errors, source=new.source,
        findings=findings_json(report)))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def add_review(conn: Connection, submission_id: int, state: Review, *, comment: str,
               reviewer: str) -> None:
    conn.execute(insert(reviews).values(submission_id=submission_id, state=str(state),
                                        comment=comment, reviewer=reviewer, reviewed_at=now()))


def audit(conn: Connection, actor: str, action: str, *, unit_code: str | None = None,
          detail: str = "", ip: str = "") -> None:
    conn.execute(insert(audit_log).values(at=now(), actor=actor, action=action,
                                          unit_code=unit_code, detail=detail[:2000], ip=ip))


def recent_count(conn: Connection, action: str, ip: str, since: dt.datetime) -> int:
    """How often ``action`` was logged for ``ip`` since ``since`` (rate limits)."""
    return int(conn.execute(select(func.count()).select_from(audit_log).where(
        audit_log.c.action == action, audit_log.c.ip == ip, audit_log.c.at >= since)).scalar()
        or 0)


def stored_paths(conn: Connection) -> set[str]:
    return {str(p) for p in conn.execute(select(submissions.c.stored_path)).scalars()}


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmissionRow:
    id: int
    unit_code: str
    received_at: dt.datetime
    sha256: str
    size: int
    original_name: str
    stored_path: str
    verdict: Verdict
    errors: int
    warnings: int
    source: str
    findings: tuple[Mapping[str, object], ...]
    review: Review
    comment: str
    reviewer: str
    reviewed_at: dt.datetime | None


def _latest_reviews(conn: Connection, ids: Sequence[int]) -> dict[int, RowMapping]:
    if not ids:
        return {}
    rows = conn.execute(select(reviews).where(reviews.c.submission_id.in_(ids))
                        .order_by(reviews.c.id)).mappings()
    return {int(r["submission_id"]): r for r in rows}  # later rows win


def _rows(conn: Connection, found: Iterable[RowMapping]) -> list[SubmissionRow]:
    found = list(found)
    latest = _latest_reviews(conn, [int(r["id"]) for r in found])
    out = []
    for r in found:
        review = latest.get(int(r["id"]))
        out.append(SubmissionRow(
            id=int(r["id"]), unit_code=r["unit_code"], received_at=aware(r["received_at"]),
            sha256=r["sha256"], size=int(r["size"]), original_name=r["original_name"],
            stored_path=r["stored_path"], verdict=Verdict(r["verdict"]),
            errors=int(r["errors"]), warnings=int(r["warnings"]), source=r["source"],
            findings=tuple(json.loads(r["findings"])),
            review=Review(review["state"]) if review else Review.PENDING,
            comment=review["comment"] if review else "",
            reviewer=review["reviewer"] if review else "",
            reviewed_at=aware(review["reviewed_at"]) if review else None))
    return out


def history(conn: Connection, code: str) -> list[SubmissionRow]:
    """A unit's submissions, newest first."""
    return _rows(conn, conn.execute(
        select(submissions).where(submissions.c.unit_code == code)
        .order_by(submissions.c.received_at.desc(), submissions.c.id.desc())).mappings())


def submission(conn: Connection, submission_id: int) -> SubmissionRow | None:
    found = _rows(conn, conn.execute(
        select(submissions).where(submissions.c.id == submission_id)).mappings())
    return found[0] if found else None


def state_of(latest: SubmissionRow | None) -> UnitState:
    if latest is None:
        return UnitState.MISSING
    if not latest.verdict.accepted:
        return UnitState.ERRORS
    return {Review.PENDING: UnitState.PENDING, Review.APPROVED: UnitState.APPROVED,
            Review.RETURNED: UnitState.RETURNED}[latest.review]


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitRow:
    code: str
    name: str
    level: str
    contact: str
    phone: str
    state: UnitState
    latest: SubmissionRow | None
    count: int


def board(conn: Connection) -> list[UnitRow]:
    """One row per active unit with its newest submission (roster order by code)."""
    newest = (select(submissions.c.unit_code, func.max(submissions.c.id).label("id"))
              .group_by(submissions.c.unit_code).subquery())
    latest_rows = _rows(conn, conn.execute(
        select(submissions).join(newest, newest.c.id == submissions.c.id)).mappings())
    latest = {r.unit_code: r for r in latest_rows}
    counts = {str(code): int(n) for code, n in conn.execute(
        select(submissions.c.unit_code, func.count()).group_by(submissions.c.unit_code))}
    out = []
    for u in conn.execute(select(units).where(units.c.active.is_(True))
                          .order_by(units.c.code)).mappings():
        row = latest.get(u["code"])
        out.append(UnitRow(code=u["code"], name=u["name"], level=u["level"],
                           contact=u["contact"], phone=u["phone"], state=state_of(row),
                           latest=row, count=counts.get(u["code"], 0)))
    return out


def unit(conn: Connection, code: str) -> Mapping[str, object] | None:
    row = conn.execute(select(units).where(units.c.code == code)).mappings().first()
    return dict(row) if row else None
