"""``lmboot run``: the whole pipeline from one TOML config, resumable, with a report.

- :mod:`~lmboot.pipeline.config`: the config, its defaults and its checks;
- :mod:`~lmboot.pipeline.runner`: steps, the manifest, skip and resume;
- :mod:`~lmboot.pipeline.stages`: what each step does (thin adapters over the library);
- :mod:`~lmboot.pipeline.plan`: which steps build which systems;
- :mod:`~lmboot.pipeline.report`: ``report.md``, plots and the results JSON.

A run builds several *systems* (LMs). The normal run builds the seed-only LM, the two
baselines without translation and the system the config's stage switches describe;
``--ablation`` builds every technique alone on top of the best baseline, and all together.

>>> res = run("scripts/conf/toy.toml")                  # doctest: +SKIP
>>> print(res.table)                                    # doctest: +SKIP
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from lmboot.io.corpus import atomic_path, write_json
from lmboot.errors import LmbootError
from lmboot.pipeline.config import DEFAULTS, load_config
from lmboot.pipeline.plan import ABLATION, DEFAULT_SYSTEMS
from lmboot.pipeline.plan import plan as plan_steps  # (not `plan`: that name is the module)
from lmboot.pipeline.runner import STAGES, Manifest, locked, resolve, run_steps


@dataclass
class RunResult:
    run_dir: Path
    manifest: Path
    report: Path | None
    table: str
    systems: list[str]
    final_lm: Path | None

    def summary(self) -> str:
        if self.report is None:
            return f"stopped early; manifest: {self.manifest}"
        return f"{self.table}\nreport: {self.report}   final LM: {self.final_lm}"


def run(config: str | Path, ablation: bool = False, systems: list[str] | None = None,
        from_stage: str | None = None, until: str | None = None, overrides: dict | None = None) -> RunResult:
    """Run the pipeline described by ``config``; see the module doc."""
    for s in (from_stage, until):
        if s is not None and s not in STAGES:
            raise LmbootError(f"unknown stage {s!r}; stages: {', '.join(STAGES)}")
    cfg = load_config(config, overrides)
    if systems is None:
        systems = list(ABLATION) if ablation else list(DEFAULT_SYSTEMS)
    for s in systems:
        if s not in ABLATION and s != "pipeline":
            raise LmbootError(f"unknown system {s!r}; systems: pipeline, {', '.join(ABLATION)}")
    run_dir = Path(cfg["run"]["dir"])
    with locked(run_dir):  # a second run here is refused before it touches anything
        return _run_locked(cfg, run_dir, systems, from_stage, until)


def _run_locked(cfg: dict, run_dir: Path, systems: list[str], from_stage: str | None,
                until: str | None) -> RunResult:
    import lmboot.evaluate, lmboot.lm.objective, lmboot.select  # noqa: E401,F401 (register their temp names)
    from lmboot.io.temps import clean_stale_temps

    clean_stale_temps(run_dir)  # what a killed run left half-written (the lock is ours: no live run's)
    write_json(run_dir / "config.json", cfg)
    manifest = Manifest(run_dir / "manifest.json")
    steps, lm_of = plan_steps(cfg, systems)
    results = run_steps(steps, run_dir, manifest, from_stage, until)
    report = table = None
    final = None
    if "eval" in results:
        from lmboot.pipeline import report as report_mod

        report, table = report_mod.write(run_dir, manifest.data, systems, cfg)
        final = Path(resolve(lm_of[systems[-1]], results))
        from lmboot.io.checksums import publish_with_checksum, write_checksum

        with atomic_path(run_dir / "final.bin") as tmp:
            shutil.copyfile(final, tmp)
            digest = publish_with_checksum(tmp, run_dir / "final.bin")
        write_checksum(run_dir / "final.bin", digest)
    return RunResult(run_dir=run_dir, manifest=manifest.path, report=report, table=table or "",
                     systems=systems, final_lm=run_dir / "final.bin" if final else None)


__all__ = ["run", "RunResult", "load_config", "plan_steps", "DEFAULTS", "ABLATION", "STAGES"]
