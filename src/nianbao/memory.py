"""Give the memory a finished step let go of back to the system.

A season's run keeps a small record per unit for its whole length, and each
step (reading, matching, the text comparisons, building) allocates and frees
far more than it keeps.  glibc keeps freed blocks for reuse, so the process
would carry each step's high-water mark into the next one; ``malloc_trim``
returns the free pages.  Elsewhere (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once; None where there is none (not Linux, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def give_back() -> bool:
    """Collect unreachable objects and return free heap pages to the system; whether the
    C library could be asked to (glibc)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
