"""Steps, the run manifest and resume (docs/formats.md, "Run manifest").

A run directory holds one subdirectory per step and ``manifest.json``: per step its inputs
(path, size, sha256), parameters, outputs, start/end times and metrics. A step whose inputs
and parameters are unchanged and whose outputs exist is skipped on re-run, so a killed run
re-run picks up where it stopped (NMT training also resumes from its last checkpoint inside
the step).
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from lmboot.io.corpus import sha256, write_json
from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

#: Stage families, in the order data flows; ``--from``/``--until`` and steps' order use it.
STAGES = ("text", "seed-lm", "baseline", "spm", "nmt", "select", "self-train", "translate", "rescore", "lmtext",
          "winnow", "compose", "lm", "eval")


def file_record(path: str | Path) -> dict:
    """Path, size and sha256 of a file; of a directory (a model), over its files' names and hashes.

    Hidden files (temporary files of an interrupted write) do not count."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and not any(x.startswith(".") for x in f.relative_to(p).parts))
        h = hashlib.sha256()
        for f in files:
            h.update(f"{f.relative_to(p)}\0{sha256(f)}\n".encode())
        return {"path": str(p), "size": sum(f.stat().st_size for f in files), "sha256": h.hexdigest()}
    return {"path": str(p), "size": p.stat().st_size, "sha256": sha256(p)}


@dataclass
class Step:
    """One unit of work: ``fn(out_dir, inputs, params) -> (outputs, metrics)``.

    ``outputs`` maps names to files (directories are hashed over their files); ``stage`` is
    the family (STAGES) that ``--from``/``--until`` and the config switches refer to.
    Inputs are file paths or ``@step:output`` references to an earlier step's output.
    """

    name: str
    stage: str
    fn: Callable[[Path, dict, dict], tuple[dict, dict]]
    inputs: dict[str, str | None] = field(default_factory=dict)
    params: dict = field(default_factory=dict)


class Manifest:
    def __init__(self, path: Path):
        self.path = path
        self.data = {"version": 1, "steps": {}}
        if path.exists():
            try:
                self.data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                raise LmbootError("manifest is not valid JSON; remove it to start over", path=path) from None

    def save(self) -> None:
        write_json(self.path, self.data)

    def fingerprint(self, step: Step, inputs: dict[str, dict]) -> str:
        blob = json.dumps({"params": step.params, "inputs": {k: v["sha256"] for k, v in inputs.items()}},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def done(self, step: Step, fp: str) -> dict | None:
        e = self.data["steps"].get(step.name)
        if not e or e.get("fingerprint") != fp or e.get("status") != "done":
            return None
        for rec in e["outputs"].values():
            p = Path(rec["path"])
            if not p.exists() or ("sha256" in rec and p.is_file() and p.stat().st_size != rec["size"]):
                return None
        return e


LOCK = ".lmboot-run.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _holder(f) -> int | None:
    f.seek(0)
    text = f.read().strip()
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def locked(run_dir: str | Path) -> Iterator[Path]:
    """Hold ``RUN_DIR/.lmboot-run.lock`` (``flock``) for the duration of a run.

    A second run on the same directory is refused at once (one line naming the holder's pid);
    a lock left by a killed run is taken over: the kernel releases a dead process's ``flock``,
    and where the file system has no ``flock`` the recorded pid must be alive to count.

    >>> with locked("runs/toy"):                    # doctest: +SKIP
    ...     ...                                      # a second `lmboot run` here exits 2
    """
    d = Path(run_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / LOCK
    f = open(path, "a+", encoding="ascii")  # not truncated: the holder's pid stays readable
    try:
        try:
            import fcntl

            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                # No flock here (some network file systems): trust the recorded pid.
                pid = _holder(f)
                if pid is not None and pid != os.getpid() and _alive(pid):
                    raise _busy(d, pid) from None
            else:
                # Held; the holder may not have written its pid yet.
                for _ in range(20):
                    pid = _holder(f)
                    if pid is not None:
                        break
                    time.sleep(0.05)
                raise _busy(d, pid) from None
        stale = _holder(f)
        if stale is not None and stale != os.getpid():
            log.info("%s: taking over the lock of an earlier run (pid %d, no longer running)", d, stale)
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        try:
            yield path
        finally:
            f.seek(0)
            f.truncate()  # an empty lock file: nobody holds it
            f.flush()
    finally:
        f.close()  # releases the flock


def _busy(d: Path, pid: int | None) -> LmbootError:
    who = f"pid {pid}" if pid is not None else "another process"
    return LmbootError(f"run directory in use by another lmboot run ({who}); wait for it to finish, "
                       "or give this run another --dir", path=d)


def resolve(ref: str | None, results: dict) -> str | None:
    """An input is a file path or ``@step:output`` naming an earlier step's output."""
    if ref is None or not ref.startswith("@"):
        return ref
    name, key = ref[1:].split(":", 1)  # step names hold no colon; output names may
    return results[name][key]


def stamp(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def run_steps(steps: list[Step], run_dir: Path, manifest: Manifest, force_from: str | None,
              until: str | None) -> dict[str, dict]:
    """Run (or skip) steps in order; returns each step's output paths by name."""
    results: dict[str, dict] = {}
    for step in steps:
        forcing = force_from is not None and STAGES.index(step.stage) >= STAGES.index(force_from)
        if until and STAGES.index(step.stage) > STAGES.index(until):
            log.info("stop before %s (--until %s)", step.name, until)
            break
        inputs = {k: resolve(v, results) for k, v in step.inputs.items()}
        in_records = {k: file_record(v) for k, v in inputs.items() if v is not None and Path(v).exists()}
        fp = manifest.fingerprint(step, in_records)
        prior = None if forcing else manifest.done(step, fp)
        if prior is not None:
            log.info("step %-28s unchanged, skipped", step.name)
            results[step.name] = {k: r["path"] for k, r in prior["outputs"].items()}
            continue
        out_dir = run_dir / step.name
        old = manifest.data["steps"].get(step.name)
        if out_dir.exists() and (forcing or old is None or old.get("fingerprint") != fp):
            # Only a step killed with these very inputs and parameters resumes from what it
            # left; otherwise a model directory from other inputs would be resumed as if current.
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        log.info("step %-28s running", step.name)
        start = time.time()
        manifest.data["steps"][step.name] = {"stage": step.stage, "status": "running", "fingerprint": fp,
                                             "inputs": in_records, "params": step.params,
                                             "start": stamp(start), "outputs": {}, "metrics": {}}
        manifest.save()
        outputs, metrics = step.fn(out_dir, inputs, step.params)
        end = time.time()
        out_records = {k: file_record(v) for k, v in outputs.items() if v is not None}
        manifest.data["steps"][step.name].update(status="done", end=stamp(end), seconds=round(end - start, 2),
                                                 outputs=out_records, metrics=metrics)
        manifest.save()
        results[step.name] = {k: str(v) for k, v in outputs.items()}
    return results


__all__ = ["STAGES", "LOCK", "locked", "Step", "Manifest", "file_record", "resolve", "run_steps"]
