"""glibc's malloc on a Dask worker given back the thresholds it chooses by itself, so that the NER model's
arrays are recycled on the heap instead of being mapped afresh for every batch.

A Dask nanny starts its worker process with ``MALLOC_TRIM_THRESHOLD_=65536`` (distributed's
``distributed.nanny.pre-spawn-environ``), so that freed memory goes back to the system at once. Setting
any malloc threshold also turns off glibc's dynamic mmap threshold, which otherwise rises to the size of
the largest block freed (up to 32 MiB): every block of 128 KiB or more is then a fresh ``mmap``, zeroed
page by page by the kernel on first touch and unmapped again when freed. The entity model allocates and
frees such arrays for every batch. Tagging the same 500 stories in one Dask worker took 17.9 s of CPU on its
thread (1.2 million page faults, 3.1 s of it system time) against 14.5-15.2 s with the thresholds below (0.2-1.2 s
system): most of what a Dask worker cost over a local runner's worker.

The thresholds set here are the ceiling of glibc's own dynamic rule (mmap from 32 MiB, trim above twice
that), the most a process started without the variable reaches; they last for the worker process's life.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import threading

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # the dynamic rule keeps trim at twice the mmap threshold

_outcome: bool | None = None  # set once per process
_lock = threading.Lock()


def wanted() -> bool:
    """A glibc process started with a trim threshold but no mmap threshold of its own (a Dask nanny's worker)."""
    return ("MALLOC_TRIM_THRESHOLD_" in os.environ and "MALLOC_MMAP_THRESHOLD_" not in os.environ
            and platform.libc_ver()[0] == "glibc")


def restore_thresholds() -> bool:
    """Once per process: True when the thresholds were set here (now or before), False when left alone."""
    global _outcome
    with _lock:
        if _outcome is not None:
            return _outcome
        if not wanted():
            _outcome = False
            return False
        try:
            libc = ctypes.CDLL(None)
            ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and libc.mallopt(M_TRIM_THRESHOLD,
                                                                                       TRIM_THRESHOLD) == 1
        except (OSError, AttributeError):
            ok = False
        if ok:
            log.info("malloc: mmap threshold %d MiB, trim threshold %d MiB (this process was started with "
                     "MALLOC_TRIM_THRESHOLD_=%s)", MMAP_THRESHOLD >> 20, TRIM_THRESHOLD >> 20,
                     os.environ["MALLOC_TRIM_THRESHOLD_"])
        else:
            log.warning("malloc: could not set glibc's thresholds; the entity model runs slower in this process")
        _outcome = ok
        return ok
