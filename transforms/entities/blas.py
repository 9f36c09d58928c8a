"""The model's matrix products on numpy's BLAS, one thread per process: the same model, served faster.

thinc's CPU ops multiply with the ``blis`` package, whose bundled kernels are about 2.4 times slower than the
OpenBLAS numpy ships for the shapes of the entity model (tokens x 288 by 288 x 192, float32), and the products
are about half of the model's time. ``MatmulOps`` is thinc's ``NumpyOps`` with only ``gemm`` routed through
``numpy.matmul``; every other kernel (maxout, layer norm, the parser's state loop) stays as it was.

Why one thread: the pipeline runs one model per worker process, as many workers as cores. OpenBLAS starts a
thread per core in each process, and two processes each spinning two threads on two cores run slower than
blis did (measured). So the ops switch only where the BLAS behind numpy is OpenBLAS and its thread count can
be set to one; anywhere else (another BLAS, a numpy without the symbol) the model keeps thinc's ops.
"""

from __future__ import annotations

import ctypes
import glob
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy
from thinc.api import NumpyOps

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.language import Language

log = logging.getLogger(__name__)

# The entry points that set OpenBLAS's thread count: numpy's own build (scipy-openblas, 64-bit ints), then a
# system OpenBLAS with and without the 64-bit suffix.
_SET_THREADS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GET_THREADS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")


class MatmulOps(NumpyOps):
    """thinc's NumPy ops with ``gemm`` on ``numpy.matmul`` (OpenBLAS) instead of blis."""

    name = "numpy-matmul"

    def gemm(self, x: Any, y: Any, out: Any = None, trans1: bool = False, trans2: bool = False) -> Any:
        a = x.T if trans1 else x
        b = y.T if trans2 else y
        if out is None:
            return numpy.matmul(a, b)
        numpy.matmul(a, b, out=out)
        return out


def _openblas_libraries() -> list[str]:
    """OpenBLAS libraries this process has loaded (numpy's own first), by path."""
    paths = sorted(glob.glob(str(Path(numpy.__file__).resolve().parent.parent / "numpy.libs" / "*openblas*")))
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        maps = ""
    for line in maps.splitlines():
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        if "openblas" in Path(path).name.lower() and path not in paths:
            paths.append(path)
    return paths


def _threads_function(names: tuple[str, ...]) -> Any:
    for path in _openblas_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in names:
            function = getattr(library, name, None)
            if function is not None:
                return function
    return None


def blas_threads() -> int | None:
    """OpenBLAS's thread count in this process, None when numpy's BLAS is not a reachable OpenBLAS."""
    function = _threads_function(_GET_THREADS)
    return int(function()) if function is not None else None


def pin_blas_threads(threads: int = 1) -> bool:
    """Set OpenBLAS's thread count in this process; False when there is no OpenBLAS to set it on."""
    function = _threads_function(_SET_THREADS)
    if function is None:
        return False
    function(ctypes.c_int(threads))
    return blas_threads() == threads


def use_matmul(nlp: Language) -> bool:
    """Give every component of ``nlp`` the matmul ops, with OpenBLAS pinned to one thread; False (and the
    pipeline untouched) when the thread count cannot be pinned."""
    if not pin_blas_threads(1):
        log.info("numpy's BLAS is not an OpenBLAS whose threads can be set: the model keeps thinc's ops")
        return False
    ops = MatmulOps()
    for _, component in nlp.components:
        model = getattr(component, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops
    return True
