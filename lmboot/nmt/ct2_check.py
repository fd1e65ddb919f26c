"""What a CTranslate2 export is (:mod:`lmboot.nmt.ct2_export` writes it) and its integrity,
checked before it translates.

:func:`read_meta` reads and checks ``lmboot.json`` (format, version, the files it needs). An
export records the SHA-256 of each of its files in ``lmboot.json`` when it is written;
:func:`verify_export` compares them (a flipped byte in ``model.bin``, another model's
``spm.model`` copied in: one line, exit 2, nothing translated). :func:`open_tokens` reads the
vocabulary and the SentencePiece model and checks that they belong together and to the model,
which also catches a hand-assembled export without checksums.

>>> verify_export("runs/en-hi.ct2", read_meta("runs/en-hi.ct2"))    # doctest: +SKIP
>>> vocab, sp = open_tokens(Path("runs/en-hi.ct2"), meta)          # doctest: +SKIP
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from lmboot.errors import LmbootError
from lmboot.io.checksums import verify_checksums
from lmboot.io.corpus import read_json_in

log = logging.getLogger("lmboot")

META = "lmboot.json"
SPM = "spm.model"
FORMAT = "lmboot-ct2"
FORMAT_VERSION = 1
REQUIREMENT = "ctranslate2>=4.5,<5"
EOS = "</s>"
VOCABULARIES = ("shared_vocabulary.json", "target_vocabulary.json", "shared_vocabulary.txt", "target_vocabulary.txt")
_unverified: set[str] = set()


def load_ctranslate2():
    """The ``ctranslate2`` module; missing, one line saying how to install it."""
    try:
        import ctranslate2
    except ImportError:
        raise LmbootError(f"the ct2 engine needs CTranslate2: pip install '{REQUIREMENT}'") from None
    return ctranslate2


def lang_token(lang: str) -> str:
    """fairseq2's NLLB language symbol."""
    return f"__{lang}__"


def read_meta(ct2_dir: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``DIR/lmboot.json`` of an export."""
    d = Path(ct2_dir)
    p = d / META
    meta = read_json_in(d, META, "CTranslate2 model directory", "an lmboot CTranslate2 export", f"invalid {META}")
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt != FORMAT:
        raise LmbootError(f"not an lmboot CTranslate2 export (format {fmt!r})", path=p)
    if int(meta.get("version", 0)) > FORMAT_VERSION:
        raise LmbootError(f"export format version {meta['version']} is newer than this lmboot ({FORMAT_VERSION})",
                          path=p)
    for f in ("model.bin", meta.get("spm", SPM)):
        if not (d / f).is_file():
            raise LmbootError(f"incomplete export: {f} missing", path=d)
    return meta


def is_export(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an lmboot CTranslate2 export (has ``lmboot.json``)."""
    return (Path(path) / META).is_file()



def verify_export(ct2_dir: str | os.PathLike, meta: dict[str, Any]) -> None:
    """Check an export's files against the SHA-256 recorded in ``lmboot.json`` at export time
    (hashed once per process: about 0.1 s per 100 MB). An export without them (from an lmboot
    before checksums) is used with one warning."""
    d = Path(ct2_dir)
    files = meta.get("files")
    if files is None:
        if str(d) not in _unverified:
            _unverified.add(str(d))
            log.warning("%s: no checksums in %s (an older export); using it unverified", d, META)
        return
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise LmbootError(f"invalid {META}: 'files' must map file names to SHA-256 digests", path=d / META)
    verify_checksums(d, files, "export the model again (lmboot nmt export)")


def read_vocabulary(d: Path, meta: dict[str, Any]) -> list[str]:
    """The export's tokens, checked: a list of distinct strings, as many as the model's vocabulary."""
    vocab = p = None
    for name in VOCABULARIES:
        p = d / name
        if p.is_file():
            try:
                text = p.read_text(encoding="utf-8")
                vocab = json.loads(text) if name.endswith(".json") else text.rstrip("\n").split("\n")
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise LmbootError(f"invalid vocabulary: {e}", path=p) from None
            break
    if vocab is None:
        raise LmbootError("incomplete export: no vocabulary file", path=d)
    if not isinstance(vocab, list):
        raise LmbootError(f"invalid vocabulary: expected a JSON list of token strings, found a "
                          f"{type(vocab).__name__}", path=p)
    if not all(isinstance(t, str) for t in vocab):
        raise LmbootError("invalid vocabulary: a token is not a string", path=p)
    want = (meta.get("model") or {}).get("vocab_size")
    if isinstance(want, int) and len(vocab) != want:
        raise LmbootError(f"invalid vocabulary: {len(vocab)} tokens, the model has {want}", path=p)
    if len(set(vocab)) != len(vocab):
        raise LmbootError("invalid vocabulary: token strings are not unique", path=p)
    return vocab


def open_tokens(d: Path, meta: dict[str, Any]):
    """``(vocabulary, SentencePieceProcessor)`` of an export, checked to belong together:
    fairseq2's NLLB id of SentencePiece piece i is i + 1 (``<pad>`` first), so ``vocab[i + 1]``
    must be piece i for every piece (another model's ``spm.model`` fails this)."""
    import sentencepiece as spm

    vocab = read_vocabulary(d, meta)
    path = d / meta.get("spm", SPM)
    try:
        sp = spm.SentencePieceProcessor(model_file=str(path))
    except (OSError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LmbootError(f"not a SentencePiece model ({first})", path=path) from None
    n = sp.get_piece_size()
    if n + 1 > len(vocab) or any(sp.id_to_piece(i) != vocab[i + 1] for i in range(n)):
        raise LmbootError(f"SentencePiece model does not match the export's vocabulary ({n} pieces, "
                          f"{len(vocab)} tokens): another model's {path.name}? Export the model again",
                          path=path)
    return vocab, sp


__all__ = ["read_meta", "is_export", "verify_export", "read_vocabulary", "open_tokens", "load_ctranslate2",
           "lang_token", "META", "SPM", "EOS", "FORMAT", "FORMAT_VERSION"]
