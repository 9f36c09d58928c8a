"""Shared helpers of the pipeline benchmarks: corpus served on loopback, configs, process-tree sampling.

Why one loopback host per agency: real feed sets come from several agencies, each on its own host, and
the product's politeness gap (``fetch.min_gap``) is per host; serving every feed from 127.0.0.1 makes all
of them one host, the worst case, kept by ``one_host=True`` (the scripts' ``--one-host``).

Why sample /proc: ``wirenews run`` on the local runner starts worker processes of its own, so the
memory and CPU that count are those of the whole process tree, not of the command alone.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpus import AGENCIES, FeedFile  # noqa: E402

DEFAULT_ES = "http://127.0.0.1:9200"
BEAM_2_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")
ONE_HOST = "127.0.0.1"
AGENCY_HOSTS = {agency.name: f"127.0.0.{i + 2}" for i, agency in enumerate(AGENCIES)}  # 127.0.0.2, .3, ...


def add_corpus_arguments(parser: Any, *, repeat: int = 3, articles: bool = True, es: bool = True) -> None:
    """The options every benchmark over the generated corpus takes, with the same defaults everywhere."""
    if articles:
        parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--seed", type=int, default=7)
    if es:
        parser.add_argument("--es", default=DEFAULT_ES)


def wirenews_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("wirenews")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class ServedCorpus:
    """Where the corpus is served: every feed's URL by feed name, and the loopback addresses in use."""

    urls: dict[str, str]
    addresses: tuple[str, ...]
    one_host: bool

    @property
    def layout(self) -> dict[str, Any]:
        """What a script records with its figures: the politeness gap depends on it."""
        return {"hosts": len(self.addresses), "layout": "one-host" if self.one_host else "host-per-agency",
                "addresses": list(self.addresses)}

    def describe(self) -> str:
        if self.one_host:
            return f"every feed on one host ({ONE_HOST}), --one-host"
        return f"{len(self.addresses)} hosts, one per agency ({', '.join(self.addresses)})"


@contextmanager
def serve_corpus(root: Path, feeds: Sequence[FeedFile], *, one_host: bool = False) -> Iterator[ServedCorpus]:
    """Serve the feed files in ``root`` on loopback for the length of the block.

    By default one ``LoopbackServer`` per agency present in ``feeds``, each on its agency's address of
    ``AGENCY_HOSTS`` (all serving ``root``), so the per-host politeness gap applies within an agency only;
    ``one_host`` serves everything from 127.0.0.1, where the gap applies between all feeds.
    """
    from tests.loopback import LoopbackServer

    hosts = {f.name: ONE_HOST if one_host else AGENCY_HOSTS[f.site] for f in feeds}
    with ExitStack() as stack:
        servers = {host: stack.enter_context(LoopbackServer(root, host=host))
                   for host in sorted(set(hosts.values()), key=ipaddress.ip_address)}
        yield ServedCorpus({f.name: servers[hosts[f.name]].url(f.filename) for f in feeds}, tuple(servers), one_host)


def write_config(path: Path, urls: Mapping[str, str], feeds: Sequence[FeedFile], alias: str,
                 es_url: str = DEFAULT_ES, poll_interval: int = 300, min_gap: float | None = None) -> Path:
    """A config for the corpus, each feed at ``urls[name]`` (``ServedCorpus.urls``); ``min_gap``
    (fetch.min_gap) None keeps the product's default of 0.5 s per host."""
    cfg: dict = {"elasticsearch": {"hosts": [es_url], "index": alias},
           "feeds": [{"name": f.name, "url": urls[f.name], "agency": f.agency,
                      "poll_interval": poll_interval} for f in feeds]}
    if min_gap is not None:
        cfg["fetch"] = {"min_gap": min_gap}
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def drop_alias(alias: str, es_url: str = DEFAULT_ES) -> None:
    """Remove every index and template a run under ``alias`` created (articles, feed state, dead letters)."""
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, request_timeout=60)
    try:
        client.options(ignore_status=404).indices.delete(index=f"{alias}*", ignore_unavailable=True,
                                                         allow_no_indices=True)
        client.options(ignore_status=404).indices.delete_index_template(name=f"{alias}*")
    finally:
        client.close()


# -- the process tree ------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(root: int) -> list[int]:
    children = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size; costly: the kernel walks the process's page tables under its mmap lock."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return _rss_kb(pid)


def tree_memory_mb(root: int) -> tuple[float, float]:
    """(PSS, USS) of a process tree now, in MB; one sample, as costly as ``_pss_kb``.

    USS (private pages only) is what the tree alone holds: unlike PSS it does not fall when another
    process on the machine maps the same libraries or model files, so a slope over time is read off it.
    """
    pss = uss = 0
    for pid in process_tree(root):
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]  # after the [rollup] header
        except OSError:
            continue
        kb = {name: int(value.split()[0]) for name, value in (line.split(":", 1) for line in lines)}
        pss += kb.get("Pss", 0)
        uss += kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
    return pss / 1024, uss / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of one live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class TreeSampler:
    """Samples the summed RSS (and, with ``pss``, PSS) and the CPU of a process tree every ``interval``
    seconds, in a thread.

    RSS summed over processes counts shared pages (the Python runtime, the model files) once per
    process, an upper bound; PSS shares them out, the fair figure for "memory of the whole run". PSS is
    off by default: reading ``smaps_rollup`` costs 10-25 ms of CPU per large process and holds its
    mmap lock, so sampling it every 0.2 s took about a sixth of a core from the run being timed. Timed
    runs sample RSS and CPU only (``statm``, ``stat``: microseconds); PSS comes from a run of its own.
    """

    root: int
    interval: float = 0.2
    pss: bool = False
    peak_rss_mb: float = 0.0
    peak_pss_mb: float | None = None
    peak_processes: int = 0
    pss_at_peak: dict[int, float] = field(default_factory=dict)  # each process's PSS (MB) when the tree peaked
    own_peak_pss: dict[int, float] = field(default_factory=dict)  # each process's own highest PSS (MB)
    series: list[tuple[float, dict[int, float]]] = field(default_factory=list)  # (seconds, PSS by process)
    cpu_by_pid: dict[int, float] = field(default_factory=dict)  # last seen CPU seconds of every process
    rescan_every: int = 5  # samples between two walks of /proc for new processes of the tree
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        """CPU of the tree as last sampled (a process's last 0.2 s before it exits can be missed)."""
        return sum(self.cpu_by_pid.values())

    def _run(self) -> None:
        pids: list[int] = []
        for n in itertools.count():
            if self._stop.is_set():
                return
            if n % self.rescan_every == 0 or not pids:
                pids = process_tree(self.root)  # every process of the tree lives a second or more
            rss = sum(_rss_kb(pid) for pid in pids)
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 1024)
            if self.pss:
                by_pid = {pid: _pss_kb(pid) / 1024 for pid in pids}
                self.series.append((time.monotonic(), by_pid))
                for pid, mb in by_pid.items():
                    self.own_peak_pss[pid] = max(self.own_peak_pss.get(pid, 0.0), mb)
                if sum(by_pid.values()) > (self.peak_pss_mb or 0.0):
                    self.peak_pss_mb, self.pss_at_peak = sum(by_pid.values()), by_pid
            self.peak_processes = max(self.peak_processes, len(pids))
            for pid in pids:
                self.cpu_by_pid[pid] = max(self.cpu_by_pid.get(pid, 0.0), cpu_seconds(pid))
            self._stop.wait(self.interval)


@dataclass
class RunResult:
    seconds: float
    returncode: int
    peak_rss_mb: float
    peak_pss_mb: float | None  # None unless the run sampled PSS
    processes: int
    cpu_seconds: float
    output: str
    pss_at_peak: dict[int, float] = field(default_factory=dict)  # per process, when the tree peaked (pss runs)
    own_peak_pss: dict[int, float] = field(default_factory=dict)  # per process, its own highest (pss runs)
    series: list[tuple[float, dict[int, float]]] = field(default_factory=list)  # PSS over time (pss runs)


def run_measured(cmd: list[str], *, cwd: Path = REPO, env: dict[str, str] | None = None,
                 timeout: float = 3600, pss: bool = False) -> RunResult:
    """Run ``cmd`` to the end: wall time, exit code, peak memory of its whole process tree, its output.

    ``pss`` also samples PSS, which slows the run measurably (``TreeSampler``): not for a timed run.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    with TreeSampler(proc.pid, pss=pss) as sampler:
        output, _ = proc.communicate(timeout=timeout)
    return RunResult(time.perf_counter() - started, proc.returncode, sampler.peak_rss_mb, sampler.peak_pss_mb,
                     sampler.peak_processes, sampler.cpu_seconds, output, sampler.pss_at_peak,
                     sampler.own_peak_pss, sampler.series)


def es_cpu_seconds(es_url: str = DEFAULT_ES) -> float:
    """CPU seconds so far of the Elasticsearch process listening on ``es_url``'s port: the work a run hands
    to the index counts too, and CPU is steadier than wall time on a shared machine."""
    from urllib.parse import urlsplit

    import psutil

    port = urlsplit(es_url).port or 9200
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            times = psutil.Process(conn.pid).cpu_times()
            return times.user + times.system
    raise RuntimeError(f"no process listens on port {port} (is Elasticsearch up at {es_url}?)")


def count_docs(alias: str, es_url: str = DEFAULT_ES) -> int:
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, request_timeout=60)
    try:
        client.indices.refresh(index=alias)
        return int(client.count(index=alias)["count"])
    finally:
        client.close()


def describe_machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "load": load_average(), "python": sys.version.split()[0],
            "time": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
