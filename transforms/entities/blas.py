"""The model's matrix products on numpy's BLAS, one thread per process: the same model, served faster.

thinc's CPU ops multiply with the ``blis`` package, whose bundled kernels are about 2.4 times slower than the
OpenBLAS numpy ships for the shapes of the entity model (tokens x 288 by 288 x 192, float32), and the products
are about half of the model's time. ``MatmulOps`` is thinc's ``NumpyOps`` with only ``gemm`` routed through
``numpy.matmul``; every other kernel (maxout, layer norm, the parser's state loop) stays as it was.

Why one thread: the pipeline runs one model per worker process, as many workers as cores. OpenBLAS starts a
thread per core in each process, and two processes each spinning two threads on two cores run slower than
blis did (measured). So the ops switch only where the BLAS behind numpy is OpenBLAS, whose thread count
threadpoolctl sets to one; anywhere else (another BLAS) the model keeps thinc's ops.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy
from thinc.api import NumpyOps
from threadpoolctl import threadpool_info, threadpool_limits

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.language import Language

log = logging.getLogger(__name__)

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


def _openblas_pools() -> list[dict[str, Any]]:
    """The OpenBLAS thread pools this process has loaded (numpy's own among them), as threadpoolctl sees them."""
    return [pool for pool in threadpool_info() if pool.get("internal_api") == "openblas"]


def blas_threads() -> int | None:
    """OpenBLAS's thread count in this process (the largest of its pools), None when no OpenBLAS is loaded."""
    pools = _openblas_pools()
    return max(int(pool["num_threads"]) for pool in pools) if pools else None


def pin_blas_threads(threads: int = 1) -> bool:
    """Set OpenBLAS's thread count in this process for good; False when there is no OpenBLAS to set it on."""
    if not _openblas_pools():
        return False
    threadpool_limits(limits=threads, user_api="blas")
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
