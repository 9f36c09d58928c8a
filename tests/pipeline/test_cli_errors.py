"""Bad input on the command line: exit 2 and one line naming what is wrong, never a traceback.

Most cases run ``main`` in this process; the broken pipe and one config case run the real program, since
what the user sees there (the exit status, the interpreter's last flush) only exists in a process of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.conftest import REPO


def error_line(capsys) -> str:
    """The one line on stderr (there must be exactly one, and no traceback)."""
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "wn.yaml"
    path.write_text("feeds:\n  - name: wire\n    url: http://127.0.0.1:9/wire.xml\n")
    return str(path)


@pytest.mark.parametrize(("args", "expected"), [
    (["clean", "{missing}"], "{missing}: no such file"),
    (["clean", "{dir}"], "{dir}: is a directory, not a file"),
    (["tag", "{missing}"], "{missing}: no such file"),
    (["tag", "{dir}"], "{dir}: is a directory, not a file"),
    (["clean", "--bogus", "{missing}"], "wirenews clean: error: unknown option --bogus (see wirenews clean --help)"),
    (["search", "-c", "{config}", "Putin", "--filter", "agency"],
     "--filter 'agency': write FACET=VALUE, e.g. agency=xinhua (facets: source, agency, language, person, org, "
     "location, norp, event, service, priority, subject)"),
    (["search", "-c", "{config}", "Putin", "--filter", "agncy=tass"],
     "--filter 'agncy=tass': no facet 'agncy'; the facets are source, agency, language, person, org, location, "
     "norp, event, service, priority, subject"),
    (["run", "-c", "{config}", "--summary_jsn", "{dir}/s.json"],
     "wirenews run: error: unknown option --summary_jsn: neither a wirenews option nor a Beam pipeline option "
     "(did you mean --summary-json?)"),
    (["run", "-c", "{config}", "--direct_num_wrkers=2"],
     "wirenews run: error: unknown option --direct_num_wrkers=2: neither a wirenews option nor a Beam pipeline "
     "option (did you mean --direct_num_workers?)"),
    (["stream", "-c", "{config}", "--direct_num_workers=two"],
     "wirenews stream: error: argument --direct_num_workers: invalid int value: 'two'"),
    (["run", "-c", "{config}", "extra"], "wirenews run: error: unexpected argument 'extra' (see wirenews run --help)"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, config, args, expected):
    names = {"missing": str(tmp_path / "absent.txt"), "dir": str(tmp_path), "config": config}
    assert main([a.format(**names) for a in args]) == 2
    assert error_line(capsys).endswith(expected.format(**names))


def test_a_missing_model_is_named(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("Some words.")
    assert main(["tag", "--model", "no_such_model", str(text)]) == 2
    assert "--model no_such_model: spaCy model 'no_such_model' not found: install it" in error_line(capsys)


@pytest.mark.parametrize(("url", "expected"), [
    ("127.0.0.1:8765/x.xml", "no such file {dir}/127.0.0.1:8765/x.xml; a web feed needs its scheme: "
                             "'http://127.0.0.1:8765/x.xml'"),
    ("www.example.org/feed.xml", "a web feed needs its scheme: 'http://www.example.org/feed.xml'"),
    ("drop/*.xml", "the folder {dir}/drop does not exist"),
])
def test_config_check_names_the_feed_and_what_to_write(tmp_path, capsys, url, expected):
    path = tmp_path / "wn.yaml"
    path.write_text(f"feeds:\n  - name: wire\n    url: '{url}'\n")
    assert main(["config", "check", "-c", str(path)]) == 2
    line = error_line(capsys)
    assert f"feeds[0].url '{url}' (feed 'wire')" in line and line.endswith(expected.format(dir=tmp_path))


def test_config_check_names_a_bad_host_limit(tmp_path, capsys):
    path = tmp_path / "wn.yaml"
    path.write_text("feeds:\n  - name: wire\n    url: http://127.0.0.1:9/wire.xml\n"
                    "fetch:\n  hosts:\n    news.example: {min_gap: 1.0, concurrency: many}\n")
    assert main(["config", "check", "-c", str(path)]) == 2
    assert error_line(capsys).endswith("fetch.hosts.news.example.concurrency must be a whole number >= 1, got 'many'")


def test_beam_options_pass_through_to_the_command(monkeypatch, config):
    """Real Beam options reach the command untouched, in both of Beam's spellings."""
    seen: list[list[str]] = []
    monkeypatch.setattr("pipeline.cli.run.cmd_run", lambda args, rest: seen.append(rest) or 0)
    options = ["--direct_num_workers=2", "--direct_running_mode", "multi_processing", "--runner=PrismRunner",
               "--prism_location=/opt/prism", "--dask_client_address=127.0.0.1:8786", "--setup_file", "./setup.py"]
    assert main(["run", "-c", config, *options]) == 0
    assert seen == [options]


def wirenews(*args: str, **kwargs) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("wirenews")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]
    return subprocess.Popen([*cmd, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"}, **kwargs)


def test_a_binary_config_exits_2_with_one_line_in_a_real_process(tmp_path):
    path = tmp_path / "wn.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    proc = wirenews("config", "check", "-c", str(path))
    out, err = proc.communicate(timeout=120)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, err.decode()
    assert lines[0].endswith(f"configuration error: {path}: the config is not UTF-8 text (byte 0x80 at offset 128): "
                             f"is it the right file?")


def test_a_reader_that_goes_away_ends_the_program_quietly(tmp_path):
    """``wirenews clean FILE | head``: the pipe closes under the writer; no traceback, SIGPIPE's status."""
    story = tmp_path / "long.txt"
    story.write_text("\n\n".join(f"Paragraph {i} of a long wire story about the harbour." for i in range(20000)))
    proc = wirenews("clean", str(story))
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)  # what `head` reads, and then it is gone
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == "", err
