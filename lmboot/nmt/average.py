"""Checkpoint averaging: the mean of the weights of the last N validated checkpoints.

fairseq's ``average_checkpoints.py`` standard: averaging the last few checkpoints of a run
smooths the noise of the last updates and often translates better than any single one of
them. :func:`lmboot.nmt.train` keeps the weights of the last ``average`` validations in
``checkpoints/valid-STEP.pt`` and, when training ends, validates their mean; the mean replaces
``best.pt`` only if its dev chrF (then dev loss) is better, so averaging never makes the
translator worse on dev.

>>> import torch
>>> average_state_dicts([{"w": torch.tensor([1.0, 3.0])}, {"w": torch.tensor([3.0, 5.0])}])["w"]
tensor([2., 4.])
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Sequence

from lmboot.errors import LmbootError
from lmboot.io.corpus import write_json
from lmboot.nmt import model as M

log = logging.getLogger("lmboot")

SNAPSHOT_RE = re.compile(r"^valid-(\d+)\.pt$")


def snapshot_path(ckdir: Path, step: int) -> Path:
    return Path(ckdir) / f"valid-{step:08d}.pt"


def snapshots(ckdir: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of the validation snapshots in ``ckdir``, oldest first."""
    d = Path(ckdir)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in d.iterdir() if (m := SNAPSHOT_RE.match(p.name))]
    return sorted(found)


def prune_snapshots(ckdir: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` snapshots."""
    snaps = snapshots(ckdir)
    for _, p in snaps[: max(0, len(snaps) - keep)]:
        p.unlink(missing_ok=True)


def average_state_dicts(states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The element-wise mean of floating-point tensors (accumulated in float64); other entries
    (integer buffers) are taken from the last state dict."""
    import torch

    if not states:
        raise LmbootError("no checkpoints to average")
    keys = list(states[-1])
    for s in states:
        if list(s) != keys:
            raise LmbootError("checkpoints to average have different parameters")
    out: dict[str, Any] = {}
    for k in keys:
        last = states[-1][k]
        if torch.is_tensor(last) and last.is_floating_point():
            acc = torch.zeros_like(last, dtype=torch.float64)
            for s in states:
                acc += s[k].to(torch.float64)
            out[k] = (acc / len(states)).to(last.dtype)
        else:
            out[k] = last
    return out


def average_and_validate(model_dir: Path, info: M.ModelInfo, fingerprint: str, dev, validate,
                         best: dict | None, n: int) -> dict[str, Any] | None:
    """Validate the mean of the last ``n`` validation snapshots; it becomes ``best.pt`` only if
    its dev chrF (then dev loss) beats the best single checkpoint's."""
    ckdir = model_dir / "checkpoints"
    snaps = snapshots(ckdir)[-n:]
    if len(snaps) < 2:
        return None
    steps = [s for s, _ in snaps]
    states = [M.load_checkpoint(p, fingerprint)["model"] for _, p in snaps]
    avg = M.build_model(info, dev)
    M.load_weights(avg, average_state_dicts(states), snaps[-1][1])
    m = validate(avg)
    kept = best is None or (m["chrf"], -m["dev_loss"]) > (best["chrf"], -best["dev_loss"])
    rec = {"metrics": {**m, "averaged": steps}, "steps": steps, "chrf": m["chrf"], "bleu": m["bleu"],
           "dev_loss": m["dev_loss"], "kept": kept, "best_single": {"step": (best or {}).get("step"), "chrf": (best or {}).get("chrf")}}
    if kept:
        M.save_checkpoint(ckdir / M.BEST, {"format": M.FORMAT, "fingerprint": fingerprint,
                                            "model": avg.state_dict(), "step": steps[-1],
                                            "best": rec["metrics"]})
    write_json(model_dir / "averaged.json", rec)
    log.info("checkpoint average of steps %s: chrF %.2f vs best single %s: %s", steps, m["chrf"],
             (best or {}).get("chrf"), "kept" if kept else "not kept")
    return rec


__all__ = ["average_and_validate", "average_state_dicts", "snapshots", "snapshot_path", "prune_snapshots"]
