"""Old home of the CTranslate2 engine, now split: :mod:`lmboot.nmt.ct2_export` (conversion,
quantization, checksums, the export cache), :mod:`lmboot.nmt.ct2_check` (an export's format
and integrity) and :mod:`lmboot.nmt.engines.ct2_engine` (translation). These names are
re-exported so that ``from lmboot.nmt.ct2 import export`` keeps working; new code imports
from the modules above.
"""
from lmboot.nmt.ct2_check import is_export, read_meta, verify_export
from lmboot.nmt.ct2_export import QUANTIZATIONS, ExportResult, cache_dir, ensure_export, export, resolve
from lmboot.nmt.engines import ENGINES
from lmboot.nmt.engines.ct2_engine import Ct2Translator

__all__ = ["export", "ExportResult", "ensure_export", "resolve", "cache_dir", "read_meta", "verify_export",
           "is_export", "Ct2Translator", "ENGINES", "QUANTIZATIONS"]
