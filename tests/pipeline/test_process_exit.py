"""The worker-exit shortcut: only in a Beam worker process, never in a process that lives on."""

from __future__ import annotations

import gc
import sys
import types

import pytest

from transforms.process_exit import HARNESS, freeze_for_exit, is_worker_process


def test_a_test_or_launcher_process_is_left_alone():
    frozen = gc.get_freeze_count()
    assert not is_worker_process()
    assert freeze_for_exit() is False
    assert gc.get_freeze_count() == frozen


def test_a_beam_worker_process_freezes_its_objects(monkeypatch):
    worker_main = types.ModuleType("__main__")
    worker_main.__spec__ = types.SimpleNamespace(name=HARNESS)
    monkeypatch.setitem(sys.modules, "__main__", worker_main)
    try:
        assert is_worker_process()
        assert freeze_for_exit() is True
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_program_exits_with_mains_code_and_a_frozen_collector(monkeypatch):
    import pipeline.cli

    frozen = []
    monkeypatch.setattr(pipeline.cli, "main", lambda: 3)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    with pytest.raises(SystemExit) as ended:
        pipeline.cli.entry()
    assert ended.value.code == 3 and frozen == [True]
