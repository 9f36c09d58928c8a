"""The model's large arrays stay mapped apart from the heap once the threshold is fixed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

# Frees a 4 MB array (glibc then raises its mmap threshold to 4 MB unless it was fixed), allocates another, and
# says whether that one has a mapping of its own (mallinfo2's hblkhd: bytes in mapped blocks).
PROBE = """
import ctypes, sys, numpy
from transforms.entities.heap import fix_mmap_threshold
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
freed = numpy.ones(4_000_000 // 8)
del freed
before = libc.mallinfo2().hblkhd
kept = numpy.ones(4_000_000 // 8)
print(libc.mallinfo2().hblkhd - before >= 4_000_000)
"""


def _mapped_apart(mode: str) -> bool:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=REPO, capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_freed_array_no_longer_moves_the_next_ones_into_the_heap():
    assert not _mapped_apart("default")  # glibc's own behaviour: the threshold rose to 4 MB
    assert _mapped_apart("fixed")
