"""A Beam worker process that loaded spaCy exits in a second less.

At exit the interpreter's last garbage collections walk every object still alive (Beam's and spaCy's
modules, the model's vocabulary and weights): 0.4-0.9 s of CPU per worker. The local runner stops its
workers one after the other and waits for each to end, so a run with two workers ended 1-2 s later than
its work, with a core idle. ``gc.freeze`` moves the live objects out of the collector's sight, and the
exit skips them.
"""

from __future__ import annotations

import gc
import sys

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
