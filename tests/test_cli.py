"""The command line as a user meets it: help, one-line errors with exit 2, doctor."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, one_error_line


def run(*args, cwd=None):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd or ROOT,
                          env={**os.environ, "COLUMNS": "100"})


def listed_commands(help_text: str) -> list[str]:
    """The command names of the "Commands" box of a Typer --help, in the order shown
    (continuation lines of a wrapped description start with blanks, not a name)."""
    box = help_text.split("─ Commands ─", 1)[1].split("╰", 1)[0]
    return [m.group(1) for m in re.finditer(r"^│ ([a-z][\w-]*) ", box, re.M)]


COMMANDS = {"winnow", "select", "rescore", "run", "doctor", "lm", "nmt", "eval"}
SUBCOMMANDS = {"lm": {"train", "eval", "build", "prune"}, "nmt": {"spm", "train", "translate", "export", "self-train"},
               "eval": {"wer", "synth", "simulate"}}


def test_checkout_launcher_help_lists_every_command_once():
    p = run("cli.py", "--help")
    assert p.returncode == 0, p.stderr
    shown = listed_commands(p.stdout)
    assert sorted(shown) == sorted(COMMANDS), shown  # every command, nothing else, each once
    for group, subs in SUBCOMMANDS.items():
        q = run("cli.py", group, "--help")
        assert q.returncode == 0 and f"Usage: lmboot {group} " in q.stdout, q.stdout
        assert sorted(listed_commands(q.stdout)) == sorted(subs), q.stdout


@pytest.mark.parametrize("argv, needle", [
    (["lm", "train", "missing file.txt", "--out", "x.arpa"], "missing file.txt: LM training text not found"),
    (["lm", "eval", "missing.txt", "--lm", "nolm.arpa"], "nolm.arpa: language model not found"),
    (["winnow", "t.txt", "--lm", "nolm.arpa", "--out", "o"], "exactly one of --threshold or --percentile"),
])
def test_user_errors_are_one_line_exit_2(argv, needle, tmp_path):
    p = run(str(ROOT / "cli.py"), *argv, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    lines = [line for line in p.stderr.splitlines() if not line.startswith("[lmboot]")]
    assert len(lines) == 1 and needle in lines[0], p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "x.arpa").exists()


def test_invalid_utf8_via_cli(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\xfe\n")
    p = run(str(ROOT / "cli.py"), "lm", "train", str(bad), "--out", str(tmp_path / "m.arpa"))
    assert p.returncode == 2
    one_error_line(p.stderr, f"{bad}:2: invalid UTF-8")
    assert not (tmp_path / "m.arpa").exists()


def test_doctor_lists_every_part():
    p = run("-m", "lmboot", "doctor", "--json")
    import json

    names = {c["name"] for c in json.loads(p.stdout)}
    for want in ("kenlm:lmplz", "kenlm:interpolate", "kenlm (python module)", "fairseq2", "torch",
                 "libsndfile", "espeak-ng", "pocketsphinx"):
        assert want in names


@pytest.mark.parametrize("flags, lmboot_level, library_level", [
    ({}, "INFO", "WARNING"), ({"quiet": True}, "WARNING", "WARNING"), ({"verbose": True}, "DEBUG", "DEBUG"),
])
def test_library_chatter_stays_out_of_lmboot_progress(flags, lmboot_level, library_level):
    """fairseq2 logs at INFO on import ("Activated FileSystem protocols"); users see lmboot's lines only."""
    import logging

    from lmboot import cli

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        cli._main(**{"verbose": False, "quiet": False, **flags})
        assert logging.getLevelName(logging.getLogger("lmboot").getEffectiveLevel()) == lmboot_level
        assert logging.getLevelName(logging.getLogger("fairseq2").getEffectiveLevel()) == library_level
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("lmboot").setLevel(logging.NOTSET)


def test_progress_bars_can_be_turned_off_on_a_terminal(monkeypatch):
    """``lmboot rescore`` (and every command with a bar): --no-progress, or the global -q, turn it off."""
    import logging

    from lmboot import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    log = logging.getLogger("lmboot")
    old = log.level
    try:
        log.setLevel(logging.INFO)
        assert cli._progress(None) is True
        assert cli._progress(False) is False
        log.setLevel(logging.WARNING)  # lmboot -q
        assert cli._progress(None) is False
        assert cli._progress(True) is True
    finally:
        log.setLevel(old)


def test_rescore_has_a_no_progress_flag():
    p = subprocess.run([sys.executable, "-m", "lmboot", "rescore", "--help"], capture_output=True, text=True,
                       cwd=ROOT, env={**__import__("os").environ, "COLUMNS": "200"})
    assert p.returncode == 0 and "--no-progress" in p.stdout
