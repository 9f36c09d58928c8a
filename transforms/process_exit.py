"""Processes that loaded Beam (and spaCy) exit without collecting it all first.

At exit the interpreter's last garbage collections walk every object still alive (Beam's and spaCy's
modules, the model's vocabulary and weights): 0.4-0.9 s of CPU per worker. The local runner stops its
workers one after the other and waits for each to end, so a run with two workers ended 1-2 s later than
its work, with a core idle. The launcher of a run spent another 0.5-0.6 s on the same after printing its
summary. ``gc.freeze`` moves the live objects out of the collector's sight, and the exit skips them.
"""

from __future__ import annotations

import gc
import sys
from typing import NoReturn

HARNESS = "apache_beam.runners.worker.sdk_worker_main"  # the program Beam starts as a worker process


def is_worker_process() -> bool:
    """True in a process Beam started as an SDK worker (``python -m ...sdk_worker_main``)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == HARNESS


def freeze_for_exit() -> bool:
    """Freeze the garbage collector when this process is a Beam worker at its end (a DoFn's teardown).

    Elsewhere (a pipeline run inside the launcher or a test process, which live on) nothing happens.
    """
    if not is_worker_process():
        return False
    gc.freeze()
    return True


def exit_program(code: int) -> NoReturn:
    """End the ``wirenews`` program with ``code``: its work is done and its output flushed.

    Only for the program's own entry point; a caller that lives on (a test calling ``main``) never
    comes here.
    """
    gc.freeze()
    raise SystemExit(code)
