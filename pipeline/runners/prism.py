"""Prism, Beam's portable local runner: built once from the Go module proxy, started apart, stopped on exit.

Beam's ``PrismRunner`` downloads a Prism binary from GitHub when it has none, and starts it as a child in
the launcher's own process group: a SIGTERM to that group (systemd's default) or a Ctrl-C kills Prism
together with wirenews, and the run ends in a gRPC error instead of a clean stop. wirenews therefore

- never downloads a binary: Prism is built with ``go install <module>@v<beam version>`` from the Go module
  proxy (a few minutes on two cores, once) into the download/build cache shared with the Elasticsearch
  distribution (``WIRENEWS_DOWNLOADS``, else ``$WIRENEWS_HOME/downloads``), or taken from there;
- starts Prism itself, in a session of its own, on a port the system picks, with its web UI off, and runs
  the pipeline on Beam's ``PortableRunner`` against it; signals reach wirenews alone, which stops the
  pipeline its own way and then Prism (SIGTERM, then SIGKILL). Should wirenews die without doing so,
  Prism shuts itself down once it has had no job for ``IDLE_SHUTDOWN``.

Prism's job port listens on every interface (Prism offers no choice); on a shared host, firewall it.

``python -m pipeline.runners.prism build|path`` is what ``scripts/bootstrap`` and the test command run.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import json
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.home import download_cache, home

if TYPE_CHECKING:  # Beam is imported only where used: `build` runs before any Beam import
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.runner import PipelineRunner

log = logging.getLogger("pipeline.runners.prism")  # also when run as __main__

PRISM_MODULE = "github.com/apache/beam/sdks/v2/go/cmd/prism"
START_TIMEOUT = 60.0  # seconds for Prism to report its job endpoint
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
IDLE_SHUTDOWN = "10m"  # Prism ends itself after this long without a job (a launcher that died hard)
BUILD_TIMEOUT = 1800.0
PRISM_NAMES = frozenset({"prism", "prismrunner", "apache_beam.runners.portability.prism_runner.prismrunner"})
DIRECT_NAMES = frozenset({"directrunner", "switchingdirectrunner",
                          "apache_beam.runners.direct.direct_runner.directrunner"})
_GO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class PrismSetupError(RuntimeError):
    """Something to fix before a Prism run can start; the message says how."""


def beam_version() -> str:
    from importlib.metadata import version

    return version("apache-beam")


def downloads_dir() -> Path:
    """The download/build cache: ``WIRENEWS_DOWNLOADS`` (shared between homes), else the home's ``downloads``."""
    return download_cache(home())


def platform_tag() -> str:
    """Go's name for this machine, e.g. ``linux_amd64``: a cache shared over NFS may serve several."""
    machine = platform.machine().lower()
    return f"{sys.platform}_{_GO_ARCH.get(machine, machine)}"


def binary_path(version: str | None = None, root: Path | None = None) -> Path:
    return (root or downloads_dir()) / f"prism-{version or beam_version()}-{platform_tag()}" / "prism"


def find_prism(version: str | None = None) -> Path | None:
    """The cached binary for the installed Beam, or None; never builds."""
    path = binary_path(version)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def find_go() -> str:
    go = shutil.which("go") or next((str(p) for p in (Path("/usr/local/go/bin/go"), Path("/usr/lib/go/bin/go"))
                                     if p.exists()), None)
    if go is None:
        raise PrismSetupError(
            "Prism is built once with Go from the Go module proxy, and no `go` was found: install Go "
            "(https://go.dev/dl/ or Debian's golang-go), or build it elsewhere with `go install "
            f"{PRISM_MODULE}@v{beam_version()}` and pass --prism_location=/path/to/prism.")
    return go


def build_prism(version: str | None = None, root: Path | None = None, *, go: str | None = None) -> Path:
    """``go install`` Prism for ``version`` into the cache; a second process waits for the first one's build."""
    version = version or beam_version()
    target = binary_path(version, root)
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.parent.parent / f".prism-{version}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        go = go or find_go()
        staging = Path(tempfile.mkdtemp(prefix=f".prism-{version}-", dir=target.parent.parent))
        try:
            env = {**os.environ, "GOBIN": str(staging), "CGO_ENABLED": "0", "GOFLAGS": "-modcacherw"}
            cmd = [go, "install", "-trimpath", f"{PRISM_MODULE}@v{version}"]
            log.info("building Prism %s with Go from the module proxy (once, a few minutes; cached in %s)",
                     version, target.parent)
            started = time.monotonic()
            try:
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
            except subprocess.TimeoutExpired as e:
                raise PrismSetupError(f"building Prism took over {BUILD_TIMEOUT:.0f} s; gave up") from e
            built = staging / "prism"
            if proc.returncode != 0 or not built.is_file():
                raise PrismSetupError(f"`{' '.join(cmd)}` failed:\n{proc.stderr.strip()[-2000:]}")
            target.parent.mkdir(exist_ok=True)
            built.rename(target)
            log.info("Prism %s built in %.0f s: %s", version, time.monotonic() - started, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def ensure_prism(version: str | None = None) -> Path:
    """The cached binary, built first when missing."""
    return find_prism(version) or build_prism(version)


def local_binary(location: str | None) -> Path:
    """The binary a run uses: ``--prism_location`` when given (a local file only), else the cached build."""
    if not location:
        return ensure_prism()
    if "://" in location:
        raise PrismSetupError(f"--prism_location={location}: wirenews never downloads a Prism binary; give a "
                              "local file, or leave the option out to build Prism from the Go module proxy")
    path = Path(location).expanduser()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise PrismSetupError(f"--prism_location={location}: not an executable file")
    return path


class PrismServer:
    """One Prism job server in a session of its own; ``endpoint`` is its job service, e.g. ``localhost:41234``."""

    def __init__(self, binary: Path, *, log_level: str = "info", idle_shutdown: str = IDLE_SHUTDOWN) -> None:
        self.binary = binary
        self.log_level = log_level
        self.idle_shutdown = idle_shutdown
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint: str | None = None
        self._log_file: tempfile._TemporaryFileWrapper[bytes] | None = None

    def start(self, timeout: float = START_TIMEOUT) -> str:
        # Prism's log goes to a file, not a pipe: a pipe nobody drains would block it once full.
        self._log_file = tempfile.NamedTemporaryFile(prefix="wirenews-prism-", suffix=".log")
        cmd = [str(self.binary), "--job_port=0", "--serve_http=false", "--log_kind=json",
               f"--log_level={self.log_level}", f"--idle_shutdown_timeout={self.idle_shutdown}"]
        # Its own session: a Ctrl-C or a SIGTERM to wirenews's process group does not reach Prism.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=self._log_file,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            endpoint = self._endpoint_from_log()
            if endpoint:
                self.endpoint = endpoint
                log.info("Prism job server at %s (pid %d)", endpoint, self.proc.pid)
                return endpoint
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.log_tail()
        self.stop()
        raise PrismSetupError(f"Prism ({self.binary}) did not start: {tail or 'no output'}")

    def _endpoint_from_log(self) -> str | None:
        # "Serving JobManagement" is logged at info: the reason Prism does not run quieter.
        for record in self._records():
            if record.get("msg") == "Serving JobManagement" and record.get("endpoint"):
                return str(record["endpoint"])
        return None

    def _records(self) -> Iterator[dict]:
        if self._log_file is None:
            return
        with open(self._log_file.name, "rb") as f:
            for line in f:
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict):
                        yield record

    def log_tail(self, lines: int = 5) -> str:
        if self._log_file is None:
            return ""
        text = Path(self._log_file.name).read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``STOP_TIMEOUT``; safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.debug("Prism stopped")
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> PrismServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_servers: list[PrismServer] = []


def wanted(options: PipelineOptions) -> bool:
    """``--runner=PrismRunner``, or ``--runner=DirectRunner`` when a built Prism is at hand (as Beam would).

    A DirectRunner asked for several workers (``--direct_num_workers``) stays on the local runner: with its
    workers inside wirenews, Prism runs the Python stages on one core.
    """
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    name = str(options.view_as(StandardOptions).runner or "").lower()
    if name in DIRECT_NAMES:
        return options.view_as(DirectOptions).direct_num_workers == 1 and find_prism() is not None
    return name in PRISM_NAMES


def runner(options: PipelineOptions) -> PipelineRunner:
    """Start a Prism job server for this run and point Beam's PortableRunner at it.

    Workers run inside the wirenews process (``--environment_type=LOOPBACK`` unless given), so they see
    its code, configs and stop file. The server is stopped by ``stop_all``, at the latest at exit.
    """
    from apache_beam.options.pipeline_options import PortableOptions, PrismRunnerOptions
    from apache_beam.runners.portability.portable_runner import PortableRunner

    binary = local_binary(options.view_as(PrismRunnerOptions).prism_location)
    server = PrismServer(binary)
    server.start()
    if not _servers:
        atexit.register(stop_all)
    _servers.append(server)
    portable = options.view_as(PortableOptions)
    portable.job_endpoint = server.endpoint
    portable.environment_type = portable.environment_type or "LOOPBACK"
    return PortableRunner()


def stop_all() -> None:
    while _servers:
        _servers.pop().stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.runners.prism",
                                 description="Prism for the installed Beam: build it into the cache, or print "
                                             "where it is.")
    ap.add_argument("action", choices=["build", "path"])
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", force=True)
    if args.action == "path":
        found = find_prism()
        print(found or binary_path())
        return 0 if found else 1
    try:
        print(ensure_prism())
    except PrismSetupError as e:
        log.error("%s", e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
