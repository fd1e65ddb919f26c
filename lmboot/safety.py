"""Old home of the checks every command makes; each now lives with its concern:

- numeric option ranges: :mod:`lmboot.ranges`;
- output guards (writable, never an input): :mod:`lmboot.io.guard`;
- stale temporary files (prefixes registered by their owners): :mod:`lmboot.io.temps`;
- checksums of KenLM binaries and exports: :mod:`lmboot.io.checksums`;
- the one-line form of an OSError: :func:`lmboot.errors.os_error_line`;
- dev text unknown to every LM: :mod:`lmboot.lm.coverage`.

``from lmboot.safety import X`` keeps working (each name is looked up in its new module when
first used, so importing this loads nothing); new code imports from the modules above.
"""
from __future__ import annotations

import importlib

_MOVED = {
    "lmboot.ranges": ("check_range", "in_range", "describe_range"),
    "lmboot.io.guard": ("check_output_file", "check_output_dir", "refuse_overwrite", "guard"),
    "lmboot.io.temps": ("clean_stale_temps", "clean_stale_temps_of", "temp_prefix"),
    "lmboot.io.checksums": ("sidecar", "cached_sha256", "is_kenlm_binary", "publish_with_checksum",
                            "write_checksum", "verify_checksum", "record_checksums", "verify_checksums",
                            "SIDECAR_SUFFIX"),
    "lmboot.errors": ("os_error_line",),
    "lmboot.lm.coverage": ("unknown_to_all", "warn_dev_unknown", "DEV_UNKNOWN_LIMIT"),
}
_HOME = {name: module for module, names in _MOVED.items() for name in names}


def __getattr__(name: str):
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'lmboot.safety' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_HOME)
