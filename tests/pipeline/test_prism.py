"""Prism: where the built binary is kept, that no URL is ever used, and a job server started in a session of
its own and stopped again."""

from __future__ import annotations

import os
import stat

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.runners import prism


def test_the_binary_is_kept_in_the_shared_download_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WIRENEWS_DOWNLOADS", str(tmp_path))
    path = prism.binary_path("2.77.0")
    assert path.parent.parent == tmp_path and path.parent.name.startswith("prism-2.77.0-linux_")
    assert prism.find_prism("2.77.0") is None
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    assert prism.find_prism("2.77.0") is None  # not executable
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    assert prism.find_prism("2.77.0") == path


def test_a_url_is_never_used_and_a_missing_file_is_named(tmp_path):
    with pytest.raises(prism.PrismSetupError, match="never downloads"):
        prism.local_binary("https://example.org/prism.zip")
    with pytest.raises(prism.PrismSetupError, match="not an executable file"):
        prism.local_binary(str(tmp_path / "prism"))


def test_direct_runner_means_prism_only_once_prism_is_built(tmp_path, monkeypatch):
    monkeypatch.setenv("WIRENEWS_DOWNLOADS", str(tmp_path))
    assert prism.wanted(PipelineOptions(["--runner=PrismRunner"]))
    assert not prism.wanted(PipelineOptions(["--runner=DirectRunner"]))
    assert not prism.wanted(PipelineOptions([]))
    path = prism.binary_path()
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    assert prism.wanted(PipelineOptions(["--runner=DirectRunner"]))
    assert not prism.wanted(PipelineOptions([]))  # no --runner: the local FnApiRunner
    # Several workers: the local runner's worker processes, not Prism's one interpreter.
    assert not prism.wanted(PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=2"]))


def test_a_job_server_runs_in_a_session_of_its_own_and_is_stopped():
    with prism.PrismServer(prism.ensure_prism()) as server:
        pid = server.proc.pid
        assert server.endpoint.startswith("localhost:") and int(server.endpoint.split(":")[1]) > 0
        # Its own session and process group: a signal to wirenews's group does not reach it.
        assert os.getsid(pid) == pid != os.getsid(0) and os.getpgid(pid) != os.getpgid(0)
    assert server.proc is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
