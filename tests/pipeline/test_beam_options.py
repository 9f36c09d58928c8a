"""Beam options checked against Beam's own registry, with the runner option modules imported first."""

from __future__ import annotations

import sys

import pytest

from pipeline import runners
from pipeline.runners import BeamOptionError, beam_option_strings, unknown_options


def test_beams_own_options_are_known_in_both_spellings():
    args = ["--runner=PrismRunner", "--direct_num_workers", "2", "--direct_running_mode=multi_processing",
            "--sdk_harness_log_level_overrides", '{"urllib3": "ERROR"}', "--job_name=x", "--streaming",
            "--flink_master=localhost:8081", "--environment_type=LOOPBACK"]
    assert unknown_options(args) == []


def test_misspelt_and_invented_options_are_returned_as_beam_would_discard_them():
    assert unknown_options(["--direct_num_wrkers=2", "--runner=DirectRunner"]) == ["--direct_num_wrkers=2"]
    assert unknown_options(["--summary_jsn", "out.json"]) == ["--summary_jsn", "out.json"]
    assert unknown_options(["--direct_num_work=2"]) == ["--direct_num_work=2"]  # no abbreviations, as in Beam


def test_a_known_option_with_a_bad_value_is_an_error_not_an_exit():
    with pytest.raises(BeamOptionError, match="--direct_num_workers: invalid int value: 'two'"):
        unknown_options(["--direct_num_workers=two"])


def test_the_dask_runner_options_are_known():
    assert unknown_options(["--dask_client_address=127.0.0.1:8786", "--dask_connection_timeout=5"]) == []
    assert "--dask_client_address" in beam_option_strings()


def test_a_runner_option_module_on_the_list_is_imported_before_an_option_is_refused(tmp_path, monkeypatch):
    (tmp_path / "wn_test_runner_options.py").write_text(
        "from apache_beam.options.pipeline_options import PipelineOptions\n\n\n"
        "class WnTestRunnerOptions(PipelineOptions):\n"
        "    @classmethod\n"
        "    def _add_argparse_args(cls, parser):\n"
        "        parser.add_argument('--wn_test_runner_endpoint')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(runners, "RUNNER_OPTION_MODULES", ())
    assert unknown_options(["--wn_test_runner_endpoint=x"]) == ["--wn_test_runner_endpoint=x"]
    monkeypatch.setattr(runners, "RUNNER_OPTION_MODULES", ("wn_test_runner_options",))
    assert unknown_options(["--wn_test_runner_endpoint=x"]) == []
    assert "wn_test_runner_options" in sys.modules
