"""The model's large arrays go back to the system when freed, so a worker's memory follows what it holds.

Tagging a batch allocates arrays of a few MB each (tokens x width, float32) and frees them when the batch is
done. glibc serves a block of 128 KB or more with a mapping of its own and unmaps it on free, but each time
such a block is freed it raises that threshold to the block's size (up to 32 MB): from then on arrays of
that size come from the heap, where freed memory is kept for reuse and fragments, and a worker's resident
memory can climb with the batches it has tagged rather than with what it holds. Setting the threshold once
(``mallopt(M_MMAP_THRESHOLD)``) turns that raising off. Elsewhere than glibc nothing is changed.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
DEFAULT_THRESHOLD = 128 * 1024  # glibc's own starting value


def fix_mmap_threshold(size: int = DEFAULT_THRESHOLD) -> bool:
    """Blocks of ``size`` bytes or more mapped apart for good, in this process; False where it cannot be set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl has no libc.so.6 or no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = mallopt(M_MMAP_THRESHOLD, size) == 1
    if not done:
        log.debug("mallopt(M_MMAP_THRESHOLD, %d) refused", size)
    return done
