"""Beam's FlinkRunner with a job server fetched ahead of time and a Java that Flink supports.

Beam's FlinkRunner starts a Java job server; with ``--flink_master=[local]`` that process also runs an
embedded Flink cluster. Left alone, Beam downloads the job server jar from Maven Central on first use
and starts it with whatever ``java`` comes first on the PATH. wirenews instead fetches the jar once
with Maven (``scripts/fetch-flink``) into the cache home it shares with the local Elasticsearch,
refuses to start without it (so no run ever downloads anything), and starts the job server with a
JDK that Flink supports.

``python -m pipeline.runners.flink fetch|path|java`` is what ``scripts/fetch-flink`` runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.home import home as wirenews_home
from pipeline.java import JVM_DIR, java_major
from pipeline.logs import setup_logging

if TYPE_CHECKING:  # Beam is imported only where used, so `fetch` sets up logging before Beam's import does
    from apache_beam.options.pipeline_options import PipelineOptions

log = logging.getLogger("pipeline.runners.flink")  # also when run as __main__

FLINK_VERSION = "1.20"  # the newest 1.x line, supported on Java 11 and 17
JOB_SERVER_ARTIFACT = "org.apache.beam:beam-runners-flink-{flink}-job-server:{beam}"
FETCH_SCRIPT = "scripts/fetch-flink"
LOCAL_MASTERS = ("[local]", "[auto]")
JAVA_PREFERENCE = (17, 11, 21)  # Java releases Flink 1.20 and 2.x both run on, best first (21: beta on 1.20)
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# Flink and Beam reach into these JDK packages by reflection; Java 17 refuses that unless opened.
JAVA17_OPENS = tuple(f"--add-opens=java.base/{pkg}=ALL-UNNAMED" for pkg in ("java.lang", "java.nio", "java.util"))
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
FLINK_RUNNER_NAMES = {"flink", "flinkrunner", "apache_beam.runners.portability.flink_runner.flinkrunner"}


class FlinkSetupError(RuntimeError):
    """Something to fix before a Flink run can start; the message says how."""


@dataclass(frozen=True)
class JobServerJar:
    flink: str
    beam: str
    home: Path

    @property
    def artifact(self) -> str:
        return JOB_SERVER_ARTIFACT.format(flink=self.flink, beam=self.beam)

    @property
    def path(self) -> Path:
        return self.home / "flink" / f"beam-runners-flink-{self.flink}-job-server-{self.beam}.jar"


def beam_version() -> str:
    from importlib.metadata import version

    return version("apache-beam")


def cache_home() -> Path:
    """The same cache home as the local Elasticsearch: WIRENEWS_HOME, else /var/lib/wirenews or ~/.cache."""
    return wirenews_home()


def default_jar(flink: str | None = None) -> JobServerJar:
    """The jar wirenews uses: WIRENEWS_FLINK_VERSION (default FLINK_VERSION), the installed Beam's version."""
    return JobServerJar(flink or os.environ.get("WIRENEWS_FLINK_VERSION") or FLINK_VERSION, beam_version(),
                        cache_home())


def missing_jar_message(jar: JobServerJar) -> str:
    return (f"Beam's Flink job server jar is not cached at {jar.path}: fetch it once with {FETCH_SCRIPT} "
            f"(Maven: {jar.artifact}), or name a local copy with --flink_job_server_jar=PATH")


# -- fetching --------------------------------------------------------------------


def fetch(jar: JobServerJar, mvn: str | None = None) -> float:
    """Copy the jar from Maven Central into the cache; returns the seconds it took (0 when cached)."""
    if jar.path.is_file():
        return 0.0
    mvn = mvn or shutil.which("mvn")
    if mvn is None:
        raise FlinkSetupError("Maven (mvn) is needed once to fetch the Flink job server jar: install it "
                              "(Debian: apt-get install maven) and run again")
    jar.path.parent.mkdir(parents=True, exist_ok=True)
    log.info("fetching %s with Maven into %s", jar.artifact, jar.path.parent)
    started = time.monotonic()
    # -U: Maven remembers a failed look-up and would not ask again for a day.
    proc = subprocess.run(
        [mvn, "-q", "-B", "-U", f"{MAVEN_DEPENDENCY_PLUGIN}:copy", f"-Dartifact={jar.artifact}",
         f"-DoutputDirectory={jar.path.parent}", "-Dmdep.stripVersion=false", "-Dmdep.overWriteReleases=true"],
        capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if proc.returncode != 0 or not jar.path.is_file():
        errors = [_ANSI.sub("", line) for line in (proc.stdout + proc.stderr).splitlines() if "ERROR" in line]
        detail = (errors[0] if errors else (proc.stdout + proc.stderr)[-2000:]).strip()
        raise FlinkSetupError(f"Maven could not fetch {jar.artifact} (exit {proc.returncode}):\n{detail}")
    return elapsed


# -- Java ------------------------------------------------------------------------


def pick_java(candidates: list[tuple[str, int | None]]) -> str | None:
    """The first home of the most preferred Java release among (home, major) pairs; None when none fits."""
    for wanted in JAVA_PREFERENCE:
        for home, major in candidates:
            if major == wanted:
                return home
    return None


def find_java_home() -> str:
    """A JDK for the job server: WIRENEWS_FLINK_JAVA_HOME as given, else JAVA_HOME or /usr/lib/jvm by preference."""
    forced = os.environ.get("WIRENEWS_FLINK_JAVA_HOME")
    if forced:
        if java_major(forced) is None:
            raise FlinkSetupError(f"WIRENEWS_FLINK_JAVA_HOME={forced} has no working bin/java")
        return forced
    homes = [os.environ.get("JAVA_HOME", "")]
    if JVM_DIR.is_dir():
        homes += sorted(str(p) for p in JVM_DIR.iterdir() if p.is_dir() and not p.is_symlink())
    seen: set[str] = set()
    candidates = []
    for home in homes:
        if home and os.path.realpath(home) not in seen:
            seen.add(os.path.realpath(home))
            candidates.append((home, java_major(home)))
    found = pick_java(candidates)
    if found is None:
        raise FlinkSetupError(
            f"Flink's job server needs Java {' or '.join(map(str, JAVA_PREFERENCE))}; none was found in JAVA_HOME "
            f"or {JVM_DIR} (found: {', '.join(f'{h} ({m})' for h, m in candidates) or 'nothing'}). Install one "
            "(Debian: apt-get install openjdk-17-jre-headless) or set WIRENEWS_FLINK_JAVA_HOME.")
    return found


# -- options -----------------------------------------------------------------------


def is_flink(options: PipelineOptions) -> bool:
    from apache_beam.options.pipeline_options import StandardOptions

    runner = options.view_as(StandardOptions).runner
    return isinstance(runner, str) and runner.lower() in FLINK_RUNNER_NAMES


def runner() -> object:
    """Beam's FlinkRunner, for options that ``configure`` completed."""
    from apache_beam.runners.portability.flink_runner import FlinkRunner

    return FlinkRunner()


def is_local_master(options: PipelineOptions) -> bool:
    from apache_beam.options.pipeline_options import FlinkRunnerOptions

    return options.view_as(FlinkRunnerOptions).flink_master in LOCAL_MASTERS


def configure(options: PipelineOptions) -> PipelineOptions:
    """Fill in what a Flink run needs and the user left out; raises FlinkSetupError when it cannot start.

    The job server jar: the user's local ``--flink_job_server_jar``, else the cached one (never a URL,
    which Beam would download). ``--flink_version`` follows the cached jar. ``[local]`` is the default
    master, with LOOPBACK workers. The job server runs on a JDK Flink supports, with the JDK packages
    Flink needs opened on Java 17 and later.
    """
    from apache_beam.options.pipeline_options import (
        FlinkRunnerOptions,
        JobServerOptions,
        PortableOptions,
        StandardOptions,
    )

    given = options.get_all_options(drop_default=True)
    flink = options.view_as(FlinkRunnerOptions)
    if flink.flink_job_server_jar:
        if urllib.parse.urlparse(flink.flink_job_server_jar).scheme in ("http", "https", "ftp"):
            raise FlinkSetupError(f"--flink_job_server_jar={flink.flink_job_server_jar} would be downloaded at run "
                                  f"time: fetch the jar ahead with {FETCH_SCRIPT} or name a local file")
        if not Path(flink.flink_job_server_jar).is_file():
            raise FlinkSetupError(f"--flink_job_server_jar={flink.flink_job_server_jar}: no such file")
    else:
        jar = default_jar(flink.flink_version if "flink_version" in given else None)
        if not jar.path.is_file():
            raise FlinkSetupError(missing_jar_message(jar))
        flink.flink_job_server_jar = str(jar.path)
        flink.flink_version = jar.flink
    if "flink_master" not in given:
        flink.flink_master = "[local]"
    portable = options.view_as(PortableOptions)
    if is_local_master(options) and not portable.environment_type:
        portable.environment_type = "LOOPBACK"
    server = options.view_as(JobServerOptions)
    if server.job_server_java_launcher in (None, "", "java"):
        server.job_server_java_launcher = str(Path(find_java_home()) / "bin" / "java")
    if _java_major_of_launcher(server.job_server_java_launcher) >= 17:
        props = list(server.job_server_jvm_properties or [])
        server.job_server_jvm_properties = props + [o for o in JAVA17_OPENS if o not in props]
    if options.view_as(StandardOptions).streaming and (portable.environment_type or "").upper() != "LOOPBACK":
        log.warning("stream on Flink with %s workers: they cannot see the launcher's stop file, so SIGTERM here "
                    "does not stop them; stop the job with Flink (see docs/flink.md)",
                    portable.environment_type or "DOCKER (Beam's default)")
    if log.getEffectiveLevel() > logging.DEBUG:
        # The job server's own output (Flink's start-up chatter) is logged by Beam under this name at INFO.
        logging.getLogger("FlinkJarJobServer").setLevel(logging.WARNING)
    log.info("Flink %s via %s on %s, %s workers, job server on %s", flink.flink_version,
             Path(flink.flink_job_server_jar).name, flink.flink_master, portable.environment_type or "default",
             server.job_server_java_launcher)
    return options


def _java_major_of_launcher(launcher: str) -> int:
    java = Path(shutil.which(launcher) or launcher).resolve()
    return java_major(java.parent.parent) or 0


# -- command line (scripts/fetch-flink) ----------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.runners.flink", description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["fetch", "path", "java"],
                    help="fetch: copy the job server jar into the cache; path: print where it is; java: the JDK used")
    ap.add_argument("--flink-version", default=None, help=f"Flink line (default {FLINK_VERSION})")
    args = ap.parse_args(argv)
    setup_logging()
    jar = default_jar(args.flink_version)
    try:
        if args.action == "java":
            print(find_java_home())
        elif args.action == "path":
            if not jar.path.is_file():
                raise FlinkSetupError(missing_jar_message(jar))
            print(jar.path)
        else:
            elapsed = fetch(jar)
            size = jar.path.stat().st_size
            how = f"fetched in {elapsed:.1f}s" if elapsed else "already cached"
            log.info("%s: %.1f MB, %s", jar.path, size / 1e6, how)
            print(jar.path)
    except FlinkSetupError as e:
        log.error("%s", e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
