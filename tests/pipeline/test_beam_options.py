"""Beam's option names remembered per Beam version: a run checks its options without importing Beam."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from pipeline import beam_options
from tests.conftest import REPO


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("WIRENEWS_HOME", str(tmp_path))
    return tmp_path


def record(parser: argparse.ArgumentParser) -> None:
    beam_options.remember(parser)
    assert beam_options.record_path().is_file()


def test_without_a_record_nothing_is_vouched_for(home):
    assert not beam_options.vouched(["--direct_num_workers=2"])


def test_the_record_vouches_only_for_known_options_with_fitting_values(home):
    parser = argparse.ArgumentParser()
    parser.add_argument("--direct_num_workers", type=int)
    parser.add_argument("--direct_running_mode", choices=["in_memory", "multi_processing"])
    parser.add_argument("--save_main_session", action="store_true")
    parser.add_argument("--job_name")
    record(parser)
    assert beam_options.vouched(["--direct_num_workers=2", "--direct_running_mode", "multi_processing",
                                 "--save_main_session", "--job_name=x"])
    for refused in (["--direct_num_wrkers=2"], ["--direct_num_workers=two"], ["--direct_running_mode=threads"],
                    ["--save_main_session=yes"], ["--job_name"], ["stray"]):
        assert not beam_options.vouched(refused), refused


def test_a_full_check_writes_the_record_with_every_runners_options(home):
    from pipeline.runners import unknown_options

    assert unknown_options(["--direct_num_workers=2"]) == []
    assert beam_options.vouched(["--direct_num_workers=2", "--dask_client_address=127.0.0.1:8786"])
    assert unknown_options(["--direct_num_wrkers=2"]) == ["--direct_num_wrkers=2"]
    assert not beam_options.vouched(["--direct_num_wrkers=2"])


def test_a_vouched_check_does_not_import_beam(home):
    """The point of the record: `wirenews config`-cheap option checks once Beam's names are known."""
    from pipeline.runners import unknown_options

    unknown_options(["--direct_num_workers=2"])
    code = ("import sys; from pipeline.cli import check_leftovers, build_parser; p = build_parser(); "
            "a, rest = p.parse_known_args(['run', '-c', 'x.yaml', '--direct_num_workers=2']); "
            "check_leftovers(p, a, rest); print('apache_beam' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**__import__("os").environ, "WIRENEWS_HOME": str(home)}, check=True)
    assert out.stdout.strip() == "False"
