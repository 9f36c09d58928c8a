"""FlinkRunner: the set-up wirenews does for it (always), then batch and stream runs on an embedded Flink.

The runs on Flink need Beam's Flink job server jar in the cache; the fixture fetches it once (what
scripts/fetch-flink does). When it cannot be had they are skipped, saying why and naming the script;
with WIRENEWS_REQUIRE_FLINK=1 that is a failure instead. The same runs also go through Beam's own
in-process job service ("portable"): the path a Flink run takes on the Python side (the job API,
LOOPBACK workers in the wirenews process, metrics from the job service, a stop while the launcher
waits on the job) without the Java job server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline.runners import flink, make_options, make_runner
from tests.conftest import REPO
from tests.e2e.test_e2e import all_docs, wirenews, write_config
from tests.e2e.test_stream import render_feed
from tests.loopback import Route

FLINK_ARGS = ["--runner=FlinkRunner", "--flink_master=[local]", "--environment_type=LOOPBACK", "--parallelism=2"]
PORTABLE_ARGS = ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"]
RUNNERS = [pytest.param(FLINK_ARGS, marks=pytest.mark.flink, id="flink"),
           pytest.param(PORTABLE_ARGS, id="portable")]
TIME_FIELDS = ("ingested_at", "first_seen_at")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache home, so the machine's own cache plays no part."""
    monkeypatch.setenv("WIRENEWS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WIRENEWS_FLINK_VERSION", raising=False)
    return tmp_path / "home"


def cached_jar(home: Path) -> Path:
    """A stand-in jar where the cache keeps the real one (nothing here starts it)."""
    path = flink.default_jar().path
    assert path.is_relative_to(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return path


# -- set-up, no Flink needed -------------------------------------------------------


def test_without_the_cached_jar_a_flink_run_exits_2_naming_the_fetch_script(home, caplog):
    with pytest.raises(SystemExit) as exit_:
        make_options(["--runner=FlinkRunner"])
    assert exit_.value.code == 2
    assert "scripts/fetch-flink" in caplog.text
    assert f"beam-runners-flink-{flink.FLINK_VERSION}-job-server:{flink.beam_version()}" in caplog.text
    assert str(home) in caplog.text


def test_the_cached_jar_local_workers_and_a_supported_java_are_filled_in(home):
    jar = cached_jar(home)
    opts = make_options(["--runner=FlinkRunner"], streaming=True).get_all_options()
    assert opts["flink_job_server_jar"] == str(jar)
    assert opts["flink_version"] == flink.FLINK_VERSION
    assert opts["flink_master"] == "[local]"
    assert opts["environment_type"] == "LOOPBACK"
    assert opts["streaming"] is True
    from pipeline.java import java_major

    launcher = Path(opts["job_server_java_launcher"])
    assert java_major(launcher.parent.parent) in flink.JAVA_PREFERENCE
    if java_major(launcher.parent.parent) >= 17:
        assert set(flink.JAVA17_OPENS) <= set(opts["job_server_jvm_properties"])


def test_what_the_user_names_is_kept(home, tmp_path):
    own_jar = tmp_path / "job-server.jar"
    own_jar.write_bytes(b"jar")
    java = shutil.which("java") or "/usr/bin/java"
    opts = make_options(["--runner=flink", f"--flink_job_server_jar={own_jar}", "--flink_master=flink-jm:8081",
                         "--environment_type=PROCESS", f"--job_server_java_launcher={java}"]).get_all_options()
    assert opts["flink_job_server_jar"] == str(own_jar)
    assert opts["flink_master"] == "flink-jm:8081"
    assert opts["environment_type"] == "PROCESS"
    assert opts["job_server_java_launcher"] == java


def test_a_stream_whose_workers_cannot_see_the_stop_file_says_how_to_stop_it(home, caplog):
    cached_jar(home)
    make_options(["--runner=FlinkRunner", "--flink_master=flink-jm:8081", "--environment_type=EXTERNAL",
                  "--environment_config=localhost:50000"], streaming=True)
    assert "stop file" in caplog.text and "docs/flink.md" in caplog.text
    caplog.clear()
    make_options(["--runner=FlinkRunner"], streaming=True)  # [local], LOOPBACK: the stop file works
    assert "stop file" not in caplog.text


@pytest.mark.parametrize("jar", ["https://repo.example.org/beam-runners-flink-job-server.jar", "/nonexistent/x.jar"])
def test_a_jar_that_would_be_downloaded_or_is_missing_is_refused(home, jar, caplog):
    with pytest.raises(SystemExit) as exit_:
        make_options(["--runner=FlinkRunner", f"--flink_job_server_jar={jar}"])
    assert exit_.value.code == 2
    assert jar in caplog.text


def test_beam_starts_the_job_server_from_the_cached_jar_with_the_chosen_java(home, monkeypatch):
    from apache_beam.runners.portability.flink_runner import FlinkJarJobServer, FlinkRunner
    from apache_beam.utils.subprocess_server import JavaJarServer

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"Beam tried to download {args}")

    monkeypatch.setattr(JavaJarServer, "_download_jar_to_cache", no_download)
    jar = cached_jar(home)
    options = make_options(["--runner=FlinkRunner"])
    assert isinstance(make_runner(options), FlinkRunner)
    cmd, endpoint = FlinkJarJobServer(options).subprocess_cmd_and_endpoint()
    cmd = [str(c) for c in cmd]
    shutil.rmtree(cmd[cmd.index("--artifacts-dir") + 1], ignore_errors=True)
    assert cmd[0] == options.get_all_options()["job_server_java_launcher"]
    assert cmd[cmd.index("-jar") + 1] == str(jar)
    assert cmd[cmd.index("--flink-master") + 1] == "[local]"
    assert endpoint.startswith("localhost:")


def test_java_17_is_preferred_and_unsupported_releases_are_refused():
    assert flink.pick_java([("/jdk25", 25), ("/jdk21", 21), ("/jdk17", 17)]) == "/jdk17"
    assert flink.pick_java([("/jdk21", 21), ("/jdk11", 11)]) == "/jdk11"
    assert flink.pick_java([("/jdk25", 25), ("/jdk8", 8), ("/broken", None)]) is None


@pytest.mark.parametrize("name,expected", [("FlinkRunner", True), ("flink", True), ("DirectRunner", False),
                                           ("apache_beam.runners.portability.flink_runner.FlinkRunner", True)])
def test_flink_is_recognised_by_any_of_beams_names_for_it(name, expected):
    from apache_beam.options.pipeline_options import PipelineOptions

    assert flink.is_flink(PipelineOptions([f"--runner={name}"])) is expected


FAKE_MVN = """#!/bin/sh
echo "$@" >> "{log}"
{body}
"""


def fake_mvn(tmp_path: Path, body: str) -> tuple[str, Path]:
    log = tmp_path / "mvn.log"
    mvn = tmp_path / "mvn"
    mvn.write_text(FAKE_MVN.format(log=log, body=body))
    mvn.chmod(0o755)
    return str(mvn), log


def test_fetch_copies_the_artifact_with_maven_into_the_cache_once(home, tmp_path):
    body = 'for a in "$@"; do case "$a" in -DoutputDirectory=*) d=${a#-DoutputDirectory=};; esac; done\n' \
           'touch "$d/beam-runners-flink-1.20-job-server-2.77.0.jar"'
    mvn, log = fake_mvn(tmp_path, body.replace("2.77.0", flink.beam_version()))
    jar = flink.default_jar()
    flink.fetch(jar, mvn=mvn)
    assert jar.path.is_file()
    args = log.read_text().split()
    assert f"{flink.MAVEN_DEPENDENCY_PLUGIN}:copy" in args and "-U" in args
    assert f"-Dartifact={jar.artifact}" in args and f"-DoutputDirectory={jar.path.parent}" in args
    assert flink.fetch(jar, mvn=mvn) == 0.0  # cached: Maven is not asked again
    assert len(log.read_text().splitlines()) == 1


def test_a_failed_fetch_says_what_maven_said(home, tmp_path):
    mvn, _ = fake_mvn(tmp_path, 'echo "[ERROR] Could not find artifact x"; exit 1')
    with pytest.raises(flink.FlinkSetupError, match="Could not find artifact x"):
        flink.fetch(flink.default_jar(), mvn=mvn)


# -- runs on an embedded Flink cluster -----------------------------------------------


@pytest.fixture(scope="session")
def flink_jar() -> Path:
    """The cached job server jar, fetched once if needed; the Flink runs are skipped without it."""
    jar = flink.default_jar()
    if not jar.path.is_file():
        try:
            flink.fetch(jar)
        except flink.FlinkSetupError as e:
            reason = f"{flink.missing_jar_message(jar)}; the fetch failed: {e}"
            if os.environ.get("WIRENEWS_REQUIRE_FLINK") == "1":
                pytest.fail(reason)
            pytest.skip(reason)
    return jar.path


def comparable(doc: dict) -> dict:
    """A document without the fields that hold the time of the run (@timestamp too, unless published)."""
    out = {k: v for k, v in doc.items() if k not in TIME_FIELDS}
    if out.get("story"):  # the story's first_seen_at is the time its first copy was seen, in this run
        out["story"] = {k: v for k, v in out["story"].items() if k != "first_seen_at"}
    if not doc.get("published_at"):
        out.pop("@timestamp", None)
    return out


def runner_args(args: list[str], request: pytest.FixtureRequest) -> list[str]:
    if args is FLINK_ARGS:
        request.getfixturevalue("flink_jar")  # skips (or fails) here without the jar
    return args


@pytest.mark.integration
@pytest.mark.e2e
@pytest.mark.parametrize("args", RUNNERS)
def test_batch_via_the_job_api_indexes_the_same_documents_as_the_local_runner(
        request, args, tmp_path, feed_server, es_settings, es_client):
    args = runner_args(args, request)
    local_alias, flink_alias = es_settings.index, f"{es_settings.index}-flink"  # both removed by the fixture
    (tmp_path / "local").mkdir()
    (tmp_path / "flink").mkdir()
    local_cfg = write_config(tmp_path / "local", es_settings.hosts[0], local_alias, feed_server.port)
    flink_cfg = write_config(tmp_path / "flink", es_settings.hosts[0], flink_alias, feed_server.port)

    started = time.monotonic()
    local = wirenews("run", "-c", str(local_cfg), "--summary-json", str(tmp_path / "local.json"))
    local_s = time.monotonic() - started
    assert local.returncode == 0, local.stdout + local.stderr
    started = time.monotonic()
    on_flink = wirenews("run", "-c", str(flink_cfg), "--summary-json", str(tmp_path / "flink.json"), *args)
    flink_s = time.monotonic() - started
    assert on_flink.returncode == 0, on_flink.stdout + on_flink.stderr[-5000:]
    print(f"same feeds: local runner {local_s:.1f}s, {args[0]} {flink_s:.1f}s")

    local_summary = json.loads((tmp_path / "local.json").read_text())
    flink_summary = json.loads((tmp_path / "flink.json").read_text())
    assert flink_summary["feeds"] == local_summary["feeds"]
    assert flink_summary["articles"] == local_summary["articles"]
    assert local_summary["articles"]["new"] > 0
    local_docs = {d["_id"]: comparable(d) for d in all_docs(es_client, local_alias)}
    flink_docs = {d["_id"]: comparable(d) for d in all_docs(es_client, flink_alias)}
    assert len(local_docs) == local_summary["articles"]["new"]
    assert sorted(flink_docs) == sorted(local_docs)
    for doc_id, doc in local_docs.items():
        assert flink_docs[doc_id] == doc, doc_id


@pytest.mark.integration
@pytest.mark.parametrize("args", RUNNERS)
def test_stream_via_the_job_api_indexes_new_items_and_stops_on_sigterm(request, args, tmp_path, feed_server,
                                                                        es_settings, es_client):
    args = runner_args(args, request)
    items = [1, 2]
    feed_server.routes["/live.xml"] = Route(body=render_feed(items), headers={"Content-Type": "application/xml"})
    cfg = {"elasticsearch": {"hosts": es_settings.hosts, "index": es_settings.index},
           "feeds": [{"name": "live", "url": feed_server.url("live.xml"), "agency": "xinhua", "poll_interval": 2}]}
    path = tmp_path / "stream.yaml"
    path.write_text(yaml.safe_dump(cfg))
    exe = Path(sys.executable).with_name("wirenews")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]
    proc = subprocess.Popen([*cmd, "stream", "-c", str(path), "--summary-json", str(tmp_path / "s.json"),
                             *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def indexed() -> set[str]:
        es = es_client.options(ignore_status=404)
        es.indices.refresh(index=es_settings.index)
        resp = es.search(index=es_settings.index, size=100, query={"match_all": {}}, source=["guid"])
        return {h["_source"]["guid"] for h in resp.get("hits", {}).get("hits", [])}

    def wait_for(guid: str, limit: float) -> None:
        """A timeout, not a measurement: a stuck stream fails here instead of hanging the suite."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"stream exited early with {proc.returncode}")
            if guid in indexed():
                return
            time.sleep(0.5)
        raise AssertionError(f"{guid} not indexed within {limit:.0f}s")

    try:
        wait_for("http://wire.example.org/live/2", 300)  # Java job server, embedded Flink, model load
        items.append(3)
        feed_server.routes["/live.xml"].body = render_feed(items)
        wait_for("http://wire.example.org/live/3", 120)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert proc.returncode == 0, out[-5000:]
    assert "SIGTERM received" in out
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["feeds"]["failed"] == 0 and summary["articles"]["dead_lettered"] == 0
    guids = indexed()
    assert guids == {f"http://wire.example.org/live/{n}" for n in items}
    assert es_client.count(index=es_settings.index)["count"] == len(guids) == summary["articles"]["new"]
