"""Files the console makes are the user's alone: the umask, and tightening what an older run left open."""

from __future__ import annotations

import os

from console.private_files import make_private_by_default, tighten


def test_new_files_and_directories_are_private_after_the_umask_is_set(tmp_path):
    previous = make_private_by_default()
    try:
        (tmp_path / "made").mkdir()
        (tmp_path / "made" / "liveward.sqlite3").write_bytes(b"x")
    finally:
        os.umask(previous)

    assert (tmp_path / "made").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "made" / "liveward.sqlite3").stat().st_mode & 0o777 == 0o600


def test_an_older_runs_readable_files_are_tightened_and_links_are_not_followed(tmp_path):
    var = tmp_path / "var"
    (var / "media" / "reports").mkdir(parents=True)
    database = var / "liveward.sqlite3"
    database.write_bytes(b"db")
    script = var / "media" / "reports" / "run.sh"
    script.write_bytes(b"#!/bin/sh")
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not ours")
    for path, mode in [(var, 0o755), (var / "media", 0o755), (database, 0o644), (script, 0o755), (outside, 0o644)]:
        os.chmod(path, mode)
    (var / "link").symlink_to(outside)

    changed = tighten(var)

    assert database.stat().st_mode & 0o777 == 0o600
    assert script.stat().st_mode & 0o777 == 0o700  # only narrowed: the owner keeps execute
    assert var.stat().st_mode & 0o777 == 0o700
    assert (var / "media" / "reports").stat().st_mode & 0o777 == 0o700
    assert outside.stat().st_mode & 0o777 == 0o644  # the link's target is outside var/: untouched
    assert database in changed and outside not in changed
    assert tighten(var) == []  # nothing left to do
