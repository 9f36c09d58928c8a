"""A real dask.distributed cluster on 127.0.0.1 for tests and benchmarks: a scheduler and N worker processes.

Started with the ``dask`` command the package installs, the way an operator starts one (see
docs/dask.md): ``dask scheduler`` writes its address to a scheduler file, each ``dask worker`` (under its
nanny, which restarts a worker process that dies) connects through it. Workers run from the repository
with it on ``PYTHONPATH``, so DoFns defined in test modules unpickle there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class DaskCluster:
    def __init__(self, workers: int = 2, threads: int = 1, start_timeout: float = 60.0) -> None:
        self.n_workers = workers
        self.threads = threads
        self.start_timeout = start_timeout
        self.dir = Path(tempfile.mkdtemp(prefix="wirenews-dask-"))
        self.scheduler_file = self.dir / "scheduler.json"
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def address(self) -> str:
        return json.loads(self.scheduler_file.read_text())["address"]

    def _dask(self) -> list[str]:
        exe = Path(sys.executable).with_name("dask")
        return [str(exe)] if exe.exists() else [sys.executable, "-m", "dask"]

    def _start(self, name: str, args: list[str]) -> None:
        log = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 - kept open for the process's lifetime
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        # A session of its own: a test's Ctrl-C does not reach the cluster; stop() ends it.
        self.procs[name] = subprocess.Popen([*self._dask(), *args], cwd=REPO, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def start(self) -> DaskCluster:
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(self.scheduler_file)])
        self._wait(lambda: self.scheduler_file.exists(), "the scheduler file")
        for i in range(self.n_workers):
            self.add_worker(f"w{i + 1}")
        self.wait_for_workers(self.n_workers)
        return self

    def add_worker(self, name: str) -> None:
        self._start(name, ["worker", "--scheduler-file", str(self.scheduler_file), "--host", "127.0.0.1",
                           "--nthreads", str(self.threads), "--no-dashboard", "--name", name])

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=self.start_timeout) as client:
            client.wait_for_workers(n, timeout=self.start_timeout)

    def worker_pids(self) -> dict[str, int]:
        """Worker name -> pid of the worker process itself (not its nanny)."""
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            return {w.get("name"): client.run(os.getpid, workers=[addr])[addr]
                    for addr, w in client.scheduler_info(n_workers=-1)["workers"].items()}

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"dask cluster: no {what} after {self.start_timeout:.0f}s; logs in {self.dir}")
            time.sleep(0.1)

    def log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for name in [n for n in self.procs if n != "scheduler"] + ["scheduler"]:
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def __enter__(self) -> DaskCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
