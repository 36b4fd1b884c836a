"""The workspace's secrets: the server key (links, CSRF) and the coordinator's password hash.

Both live in the workspace folder with owner-only permissions:

- ``.nianbao-secret``: 32 random bytes.  A unit's link token is
  HMAC-SHA256(key, code + generation), 192 bits, so ``nianbao links`` can print the
  same links again while the database only ever holds their SHA-256; rotating a
  unit's link bumps its generation, which revokes the old token.
- ``.nianbao-admin``: ``scrypt$n$r$p$salt$hash`` of the coordinator's password.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from nianbao.atomic import write_text

SECRET_NAME = ".nianbao-secret"
ADMIN_NAME = ".nianbao-admin"
TOKEN_CHARS = 32  # base64url characters: 192 bits
_SCRYPT = (2**14, 8, 1)


def _private_write(path: Path, text: str) -> None:
    write_text(path, text)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


def server_key(root: Path) -> bytes:
    """The workspace's key, created on first use."""
    path = root / SECRET_NAME
    if not path.is_file():
        _private_write(path, secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text("ascii").strip())


def link_token(key: bytes, code: str, generation: int) -> str:
    digest = hmac.new(key, f"link\0{code}\0{generation}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:TOKEN_CHARS]


def sign(key: bytes, purpose: str, value: str) -> str:
    """An HMAC of ``value`` for ``purpose`` (CSRF tokens)."""
    return hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()


def hash_password(password: str) -> str:
    n, r, p = _SCRYPT
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(stored: str, password: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.strip().split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n),
                             r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def set_password(root: Path, password: str) -> Path:
    path = root / ADMIN_NAME
    _private_write(path, hash_password(password) + "\n")
    return path


def stored_password(root: Path) -> str | None:
    path = root / ADMIN_NAME
    return path.read_text("ascii").strip() if path.is_file() else None
