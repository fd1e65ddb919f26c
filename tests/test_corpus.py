"""Corpus I/O (lmboot.io.corpus): validation errors, atomic writes."""
from __future__ import annotations

import pytest

from lmboot.io.corpus import atomic_write, check_bitext, count_lines, read_bitext, read_lines, write_bitext, write_lines
from lmboot.errors import LmbootError


# --- reading and validation -----------------------------------------------------------
def test_read_lines_skips_empty_lines_and_logs_count(make_text, caplog):
    p = make_text("a.txt", ["one", "", "  ", "two"])
    with caplog.at_level("INFO", logger="lmboot"):
        assert list(read_lines(p)) == ["one", "two"]
    assert "skipped 2 empty line" in caplog.text


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(LmbootError, match="not found") as e:
        list(read_lines(tmp_path / "nope.txt"))
    assert "nope.txt" in str(e.value)
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(LmbootError, match="empty"):
        list(read_lines(tmp_path / "empty.txt"))


def test_invalid_utf8_names_file_and_line(tmp_path):
    p = tmp_path / "bad file.txt"
    p.write_bytes("ठीक\n".encode() + b"ok\n" + b"caf\xe9\n")
    with pytest.raises(LmbootError) as e:
        list(read_lines(p))
    assert str(e.value).startswith(f"{p}:3: invalid UTF-8")


def test_bitext_two_files_and_tsv(make_text, tmp_path):
    s = make_text("x.en", ["hello", "", "bye"])
    t = make_text("x.hi", ["नमस्ते", "खाली", "अलविदा"])
    assert list(read_bitext(s, t)) == [("hello", "नमस्ते"), ("bye", "अलविदा")]
    tsv = make_text("x.tsv", ["hello\tनमस्ते", "bye\tअलविदा"])
    assert list(read_bitext(tsv)) == [("hello", "नमस्ते"), ("bye", "अलविदा")]


def test_bitext_mismatch_names_both_files_and_counts(make_text):
    s = make_text("a.en", ["1", "2", "3"])
    t = make_text("a.hi", ["1", "2"])
    with pytest.raises(LmbootError) as e:
        check_bitext(s, t)
    msg = str(e.value)
    assert str(s) in msg and str(t) in msg and "3 lines" in msg and "has 2" in msg


def test_tsv_wrong_column_count_names_line(make_text):
    tsv = make_text("b.tsv", ["a\tb", "only one column"])
    with pytest.raises(LmbootError, match=r"b\.tsv:2: expected 2 tab-separated columns"):
        check_bitext(tsv)


# --- writing ------------------------------------------------------------------------
def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_write(out) as f:
            f.write("partial\n")
            raise RuntimeError("boom")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_old_file_until_success(tmp_path):
    out = tmp_path / "out.txt"
    write_lines(out, ["old"])
    with pytest.raises(KeyboardInterrupt):
        write_lines(out, _interrupting(["new1", "new2"]))
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def _interrupting(items):
    yield from items
    raise KeyboardInterrupt


def test_write_bitext_round_trip_with_spaces_in_path(tmp_path):
    d = tmp_path / "dir with spaces"
    pairs = [("set alarm", "अलार्म लगाओ"), ("tab\there", "टैब")]
    write_bitext(pairs, d / "x.en", d / "x.hi")
    assert list(read_bitext(d / "x.en", d / "x.hi")) == [("set alarm", "अलार्म लगाओ"), ("tab here", "टैब")]
    write_bitext(pairs, d / "x.tsv")
    assert count_lines(d / "x.tsv") == 2
    assert list(read_bitext(d / "x.tsv"))[0] == ("set alarm", "अलार्म लगाओ")


def test_outputs_get_normal_permissions(tmp_path):
    import os
    import stat

    out = write_lines(tmp_path / "o.txt", ["x"]) and tmp_path / "o.txt"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
