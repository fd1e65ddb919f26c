"""Reliability holes of issue 21: two runs on one directory, disk space and full disks,
half-written output after a refusal. (The CTranslate2 export checks are in test_ct2.py, the
self-training one in test_bad_input.py, beside the models they need.)
"""
from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, TOY
from lmboot.errors import LmbootError

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def lmboot(*args, cwd: Path, preexec_fn=None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lmboot", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=ENV, preexec_fn=preexec_fn, timeout=timeout)


def error_line(p: subprocess.CompletedProcess) -> str:
    """The one ``lmboot: error:`` line of a refused command (exit 2, no traceback, nothing else)."""
    assert "Traceback" not in p.stderr, p.stderr
    assert p.returncode == 2, p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip() and not x.startswith("[lmboot]")]
    assert len(lines) == 1 and lines[0].startswith("lmboot: error: "), p.stderr
    return lines[0]


# --------------------------------------------------------------------------------------
# One run per run directory
# --------------------------------------------------------------------------------------
@pytest.fixture
def run_conf(tmp_path) -> Path:
    """A config over small slices of the toy corpora (only its seed-LM step is ever run here)."""
    seed = (TOY / "seed.hi").read_text(encoding="utf-8").splitlines()
    src = (TOY / "source.en").read_text(encoding="utf-8").splitlines()[:20]
    files = {"seed.hi": seed[:60], "dev.hi": seed[60:70], "test.hi": seed[70:80], "in.en": src,
             "general.en": src, "general.hi": seed[:20]}
    for name, lines in files.items():
        (tmp_path / name).write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    conf = tmp_path / "conf.toml"
    conf.write_text('[run]\ndir = "run"\n\n[data]\nseed = "seed.hi"\ndev = "dev.hi"\ntest = "test.hi"\n'
                    'source = "in.en"\ngeneral_src = "general.en"\ngeneral_tgt = "general.hi"\n', encoding="utf-8")
    return conf


HOLD = "import sys, time\nfrom lmboot.pipeline.runner import locked\nwith locked(sys.argv[1]):\n" \
       "    print('held', flush=True)\n    time.sleep(120)\n"


def _holder(run_dir: Path) -> subprocess.Popen:
    """A process holding the run directory's lock, as a running `lmboot run` does."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True, env=ENV,
                         cwd=ROOT)
    assert p.stdout.readline().strip() == "held"
    return p


def test_second_run_on_a_locked_directory_is_refused_and_touches_nothing(run_conf):
    run = run_conf.parent / "run"
    live = run / "lm" / "lmboot-lm-live"  # the first run's working directory, which start-up cleanup removes
    live.mkdir(parents=True)
    holder = _holder(run)
    try:
        t0 = time.perf_counter()
        p = lmboot("run", run_conf, cwd=run_conf.parent)
        line = error_line(p)
        assert f"pid {holder.pid}" in line and str(run) in line, line
        assert time.perf_counter() - t0 < 30  # refused at once, not after waiting for the holder
        assert live.is_dir(), "the refused run cleaned the live run's working directory"
        assert sorted(x.name for x in run.iterdir()) == [".lmboot-run.lock", "lm"]  # no config.json, no step
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_run_is_taken_over(run_conf, kenlm_ready):
    run = run_conf.parent / "run"
    holder = _holder(run)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = run / ".lmboot-run.lock"
    assert lock.read_text().strip() == str(holder.pid)  # what kill -9 leaves
    stale = run / "lm" / "lmboot-lm-stale"
    stale.mkdir(parents=True)
    p = lmboot("run", run_conf, "--until", "seed-lm", cwd=run_conf.parent)
    assert p.returncode == 0, p.stderr
    assert f"taking over the lock of an earlier run (pid {holder.pid}" in p.stderr
    assert not stale.exists()  # the killed run's leftovers go once the lock is ours
    assert (run / "seed_lm").is_dir() and lock.read_text() == ""  # released at the end


def test_without_flock_the_recorded_pid_decides(tmp_path, monkeypatch):
    """On a file system without flock (some network mounts): a live recorded pid refuses, a dead one
    is taken over."""
    import fcntl

    from lmboot.pipeline.runner import LOCK, locked

    def no_flock(*_):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_flock)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK).write_text(f"{sleeper.pid}\n")
        with pytest.raises(LmbootError, match=f"pid {sleeper.pid}"):
            with locked(tmp_path):
                pass
    finally:
        sleeper.kill()
        sleeper.wait()
    with locked(tmp_path):  # the same pid, now dead
        assert (tmp_path / LOCK).read_text().strip() == str(os.getpid())


# --------------------------------------------------------------------------------------
# select --repeat: bounded, and the disk must hold the copies
# --------------------------------------------------------------------------------------
def _bitext(d: Path, n: int = 300) -> tuple[Path, Path, Path]:
    seed = (TOY / "seed.hi").read_text(encoding="utf-8").splitlines()
    src, tgt = d / "g.en", d / "g.hi"
    src.write_text("".join(f"pair {i} source\n" for i in range(n)), encoding="utf-8")
    tgt.write_text("".join(seed[i % len(seed)] + "\n" for i in range(n)), encoding="utf-8")
    (d / "seed.hi").write_text("".join(x + "\n" for x in seed[:50]), encoding="utf-8")
    return src, tgt, d / "seed.hi"


def test_select_repeat_is_bounded_on_the_command_line_as_in_the_config(tmp_path):
    src, tgt, seed = _bitext(tmp_path)
    p = lmboot("select", src, tgt, "--seed", seed, "--out", "sel", "--repeat", "1000000000", cwd=tmp_path)
    assert "--repeat must be an integer in [1, 100], not 1000000000" in error_line(p)
    assert not (tmp_path / "sel").exists()
    from lmboot.select import select

    with pytest.raises(LmbootError, match=r"--repeat must be an integer in \[1, 100\]"):
        select(src, tgt, seed, tmp_path / "sel", repeat=101)


def test_select_refuses_copies_the_disk_cannot_hold_and_leaves_nothing(tmp_path, monkeypatch, kenlm_ready):
    from lmboot.select import selection

    src, tgt, seed = _bitext(tmp_path)
    bitext = src.stat().st_size + tgt.stat().st_size
    real = shutil.disk_usage
    # 50 copies of the kept fifth of the pairs are ~11x the bitext; give the disk room for 5x.
    monkeypatch.setattr(selection.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=5 * bitext))
    out = tmp_path / "sel"
    with pytest.raises(LmbootError, match=r"not enough disk space: .*MB are free; lower --repeat \(50\)") as e:
        selection.select(src, tgt, seed, out, method="moore-lewis", keep_fraction=0.2, repeat=50)
    assert str(out) in str(e.value)
    assert not out.exists(), sorted(map(str, out.rglob("*")))  # no lm/*.arpa, no work directory
    # the same with room to spare: written (the estimate is not a blanket refusal)
    res = selection.select(src, tgt, seed, out, method="moore-lewis", keep_fraction=0.2, repeat=3)
    assert res.written == 300 + 2 * res.kept


# --------------------------------------------------------------------------------------
# A full disk names the file it could not write
# --------------------------------------------------------------------------------------
def _fsize_limit(nbytes: int):
    """A file-size limit: writes past it fail as on a full disk (EFBIG for ENOSPC), same code path."""
    def limit():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return limit


@pytest.mark.parametrize("argv, named", [
    (["lm", "train", "g.hi", "--out", "o.arpa"], "/text.txt: File too large"),  # lmplz's input, in its work dir
    (["select", "g.en", "g.hi", "--seed", "seed.hi", "--out", "sel", "--method", "moore-lewis"],
     "/in_domain.txt: File too large"),
    (["nmt", "spm", "--src", "g.en", "--tgt", "g.hi", "--out", "x.model", "--vocab-size", "100"],
     "x.model: File too large"),
], ids=["lm-train", "select-moore-lewis", "nmt-spm"])
def test_full_disk_error_names_the_file(tmp_path, argv, named, kenlm_ready):
    _bitext(tmp_path, 3000)
    line = error_line(lmboot(*argv, cwd=tmp_path, preexec_fn=_fsize_limit(4096)))
    assert named in line, line
    assert line != "lmboot: error: File too large"


def test_enospc_from_a_plain_write_names_the_file(tmp_path, monkeypatch, kenlm_ready):
    """A real ENOSPC (/dev/full) in the write of lmplz's input text: the CLI's line names that file."""
    import builtins
    import importlib

    from lmboot import lm
    from lmboot.errors import os_error_line

    train_mod = importlib.import_module("lmboot.lm.estimate")  # the module of lmboot.lm.train

    _, tgt, _ = _bitext(tmp_path)
    monkeypatch.setattr(train_mod, "open", lambda *a, **k: builtins.open("/dev/full", "w"), raising=False)
    with pytest.raises(OSError) as e:
        lm.train(tgt, tmp_path / "o.arpa")
    assert e.value.errno == errno.ENOSPC
    line = os_error_line(e.value)
    assert line.endswith("/text.txt: No space left on device") and "lmboot-lm-" in line, line
    assert not (tmp_path / "o.arpa").exists()


def test_an_errno_less_os_error_keeps_its_own_words():
    """numpy's tofile raises OSError("N requested and M written") without errno: not "[Errno None] None"."""
    from lmboot.io.corpus import naming_errors
    from lmboot.errors import os_error_line

    with pytest.raises(OSError) as e:
        with naming_errors("sel/embedder/components.npy"):
            raise OSError("997120 requested and 49968 written")
    assert os_error_line(e.value) == "sel/embedder/components.npy: 997120 requested and 49968 written"


def test_a_step_whose_inputs_changed_starts_from_an_empty_directory(tmp_path):
    """Only a step killed with the same inputs and parameters resumes from its leftovers: a
    fine-tune re-run on another translator must not resume the old fine-tune's checkpoint."""
    from lmboot.pipeline.runner import Manifest, Step, run_steps

    seen = []

    def fn(out, inputs, params):
        seen.append(sorted(p.name for p in out.iterdir()))
        (out / "last.pt").write_text(str(params["steps"]))
        return {"model": out / "last.pt"}, {}

    def run(steps_param, kill=False):
        m = Manifest(tmp_path / "manifest.json")
        step = Step("self-train.all", "self-train", fn, {}, {"steps": steps_param})
        if kill:  # as a kill -9 leaves it: the manifest says running, the directory has a checkpoint
            m.data["steps"]["self-train.all"] = {"status": "running", "fingerprint": m.fingerprint(step, {})}
            m.save()
            (tmp_path / "self-train.all").mkdir(exist_ok=True)
            (tmp_path / "self-train.all" / "last.pt").write_text("partial")
        run_steps([step], tmp_path, m, None, None)

    run(30)
    run(60)                       # parameters changed: the old checkpoint is gone before the step runs
    run(90, kill=True)            # killed with these parameters: its checkpoint is there to resume
    assert seen == [[], [], ["last.pt"]]
