"""Model directory, presets, tokenizer, device and checkpoints for the fairseq2 translator.

A model directory is self-contained::

    MODEL/config.json          format, preset, fairseq2 NllbConfig, languages, training settings
    MODEL/spm.model            SentencePiece model (one joint vocabulary)
    MODEL/checkpoints/last.pt  latest training state (model, optimiser, scheduler, step, RNG)
    MODEL/checkpoints/best.pt  weights with the best dev chrF (or loss)
    MODEL/train_log.jsonl      one line per validation

so :func:`lmboot.nmt.translate` and :func:`lmboot.nmt.self_train` need only the directory.
Checkpoints load with ``torch.load(weights_only=True)``; a corrupt file, or one made for a
different model configuration or vocabulary, raises :class:`LmbootError`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmboot.io.corpus import atomic_path, read_json_in, write_json
from lmboot.errors import LmbootError

log = logging.getLogger("lmboot")

FORMAT = "lmboot-nmt"
FORMAT_VERSION = 1
CONFIG = "config.json"
SPM = "spm.model"
LAST = "last.pt"
BEST = "best.pt"


@dataclass(frozen=True)
class Preset:
    """Model size and default training settings."""

    model_dim: int
    layers: int
    heads: int
    ffn_inner_dim: int
    dropout_p: float
    batch_tokens: int  # source + target tokens per batch (per process)
    lr: float
    warmup_steps: int
    vocab_size: int  # default SentencePiece vocabulary


PRESETS: dict[str, Preset] = {
    # CI / tests: trains a toy language pair in a minute on one core.
    "tiny": Preset(model_dim=128, layers=2, heads=4, ffn_inner_dim=512, dropout_p=0.1,
                   batch_tokens=2048, lr=2e-3, warmup_steps=60, vocab_size=1000),
    # One CPU machine: 3+3 layers, d=256 (5.6M parameters with an 8k vocabulary).
    "small": Preset(model_dim=256, layers=3, heads=4, ffn_inner_dim=1024, dropout_p=0.1,
                    batch_tokens=3072, lr=1e-3, warmup_steps=400, vocab_size=8000),
    # A GPU: Transformer-base.
    "base": Preset(model_dim=512, layers=6, heads=8, ffn_inner_dim=2048, dropout_p=0.1,
                   batch_tokens=12288, lr=7e-4, warmup_steps=4000, vocab_size=16000),
}

MAX_POSITIONS = 1024


#: The preset name a model started from a pretrained checkpoint records (its size is the
#: checkpoint's); such a model trains with the ``small`` preset's settings (learning rate,
#: warm-up, batch size).
CUSTOM = "custom"
CUSTOM_TRAINING = "small"


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise LmbootError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def training_preset(name: str, where: str | os.PathLike | None = None) -> Preset:
    """The training settings of a model whose ``config.json`` names the preset ``name``:
    that preset's, or ``small``'s for a model from a pretrained checkpoint (``custom``).
    Any other name is an error (naming ``where``), never a silent default."""
    if name == CUSTOM:
        return PRESETS[CUSTOM_TRAINING]
    if name not in PRESETS:
        raise LmbootError(f"unknown preset {name!r} in the model config (known: {', '.join(PRESETS)}, "
                          f"{CUSTOM})", path=where)
    return PRESETS[name]


@dataclass
class ModelInfo:
    """The contents of ``config.json``."""

    src_lang: str
    tgt_lang: str
    preset: str
    model: dict[str, Any]  # fairseq2 NllbConfig fields
    langs: list[str] = field(default_factory=list)
    spm: str = SPM
    train: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT
    version: int = FORMAT_VERSION

    def nllb_config(self):
        from fairseq2.models.nllb import NllbConfig

        return NllbConfig(**self.model)

    def fingerprint(self, model_dir: Path) -> str:
        """Hash of what a checkpoint's weights depend on: model shape, languages, vocabulary."""
        h = hashlib.sha256()
        h.update(json.dumps({"model": self.model, "langs": self.langs}, sort_keys=True).encode())
        h.update((Path(model_dir) / self.spm).read_bytes())
        return h.hexdigest()[:16]


def read_info(model_dir: str | os.PathLike) -> ModelInfo:
    """Read and check ``MODEL/config.json``."""
    d = Path(model_dir)
    p = d / CONFIG
    raw = read_json_in(d, CONFIG, "model directory", "an lmboot NMT model directory", "invalid model config")
    try:
        info = ModelInfo(**raw)
    except TypeError as e:
        raise LmbootError(f"invalid model config: {e}", path=p) from None
    if info.format != FORMAT:
        raise LmbootError(f"unknown model format {info.format!r}", path=p)
    if info.version > FORMAT_VERSION:
        raise LmbootError(f"model format version {info.version} is newer than this lmboot ({FORMAT_VERSION})", path=p)
    if not (d / info.spm).exists():
        raise LmbootError("SentencePiece model missing from the model directory", path=d / info.spm)
    return info


def write_info(model_dir: str | os.PathLike, info: ModelInfo) -> None:
    write_json(Path(model_dir) / CONFIG, dataclasses.asdict(info))


def load_tokenizer(model_dir: str | os.PathLike, info: ModelInfo):
    """fairseq2's NLLB tokenizer over ``MODEL/spm.model`` with the model's language symbols."""
    from fairseq2.models.nllb import NllbTokenizerConfig, load_nllb_tokenizer

    path = Path(model_dir) / info.spm
    try:
        return load_nllb_tokenizer(path, NllbTokenizerConfig(langs=list(info.langs), default_lang=info.src_lang))
    except Exception as e:  # fairseq2n raises its own error types for a bad model file
        raise LmbootError(f"cannot load SentencePiece model: {e}", path=path) from None


def model_config(preset: Preset, vocab_size: int, dropout_p: float | None = None) -> dict[str, Any]:
    return dict(model_dim=preset.model_dim, max_seq_len=MAX_POSITIONS, vocab_size=vocab_size, pad_idx=0,
                num_encoder_layers=preset.layers, num_decoder_layers=preset.layers,
                num_encoder_attn_heads=preset.heads, num_decoder_attn_heads=preset.heads,
                ffn_inner_dim=preset.ffn_inner_dim,
                dropout_p=preset.dropout_p if dropout_p is None else dropout_p)


def build_model(info: ModelInfo, device):
    """A freshly initialised fairseq2 NLLB-architecture Transformer (encoder-decoder)."""
    from fairseq2.models.nllb import create_nllb_model

    model = create_nllb_model(info.nllb_config())
    return model.to(device)


# --------------------------------------------------------------------------------------
# Device and threads
# --------------------------------------------------------------------------------------
def setup_device(device: str | None = None, threads: int | None = None):
    """CUDA (the local rank's GPU) when available, else CPU with a sensible thread count.

    On CPU, ``threads=None`` keeps ``OMP_NUM_THREADS`` when set, else uses the cores divided
    among the local processes (``LOCAL_WORLD_SIZE`` under torchrun), at most 8.
    """
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cpu":
        _keep_freed_memory()
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
    if threads is None and "OMP_NUM_THREADS" not in os.environ:
        local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
        threads = max(1, min(8, (os.cpu_count() or 1) // local))
    if threads is not None:
        torch.set_num_threads(threads)
    return dev


def _keep_freed_memory() -> None:
    """Stop glibc from returning every freed tensor buffer to the OS.

    A training step allocates and frees the same large activation buffers again and again;
    glibc serves blocks above its mmap threshold with mmap/munmap, so each step page-faults
    them in anew (a third of the CPU time went to the kernel). Raising the mmap and trim
    thresholds keeps those pages in the process: +30 % training throughput on 2 cores
    (tiny preset, 3,000 -> 3,900 target tokens/s on one thread). No-op off glibc.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 1 << 30)
    mallopt(m_trim_threshold, 1 << 30)


# --------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------
def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` through a temporary file, renamed on success (never half-written)."""
    import torch

    with atomic_path(path) as tmp:
        try:
            torch.save(state, tmp)
        except RuntimeError as e:  # torch's writer reports a full disk as "unexpected pos ..."
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise LmbootError(f"writing the checkpoint failed (is the disk full?): {first}", path=path) from None


def load_checkpoint(path: Path, fingerprint: str | None = None, map_location="cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; check it was made for this model."""
    import pickle
    import zipfile

    import torch

    if not path.exists():
        raise LmbootError("checkpoint not found", path=path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LmbootError(f"corrupt or unreadable checkpoint ({first})", path=path) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or "model" not in state:
        raise LmbootError("not an lmboot NMT checkpoint", path=path)
    if fingerprint is not None and state.get("fingerprint") != fingerprint:
        raise LmbootError("checkpoint was made for a different model configuration or vocabulary "
                          f"({state.get('fingerprint')} != {fingerprint})", path=path)
    return state


def load_weights(model, state_dict: dict[str, Any], path: Path) -> None:
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise LmbootError(f"checkpoint does not match the model ({first})", path=path) from None


def checkpoint_path(model_dir: str | os.PathLike, which: str = "best") -> Path:
    """``best`` falls back to ``last`` when no dev set was used."""
    d = Path(model_dir) / "checkpoints"
    if which == "best" and (d / BEST).exists():
        return d / BEST
    if which in ("best", "last"):
        return d / LAST
    return Path(which)


def load_model(model_dir: str | os.PathLike, device=None, which: str = "best"):
    """Load ``(model, tokenizer, info)`` from a model directory, in eval mode.

    >>> model, tok, info = load_model("runs/en-hi")            # doctest: +SKIP
    """
    import torch

    info = read_info(model_dir)
    dev = device if device is not None else torch.device("cpu")
    tokenizer = load_tokenizer(model_dir, info)
    path = checkpoint_path(model_dir, which)
    state = load_checkpoint(path, info.fingerprint(Path(model_dir)))
    model = build_model(info, dev)
    load_weights(model, state["model"], path)
    model.eval()
    return model, tokenizer, info


# --------------------------------------------------------------------------------------
# Pretrained start: a fairseq2 checkpoint a user has on disk (e.g. an NLLB model)
# --------------------------------------------------------------------------------------
@dataclass
class PretrainedSpec:
    """A local fairseq2 NLLB-family checkpoint to start from (nothing is downloaded).

    Described by a JSON file::

        {"checkpoint": "nllb-600m/checkpoint.pt",   # fairseq2 or fairseq(1) NLLB checkpoint
         "spm": "nllb-600m/sentencepiece.model",
         "arch": "dense_600m",                      # a fairseq2 NLLB arch, or "model": {NllbConfig fields}
         "langs": ["ace_Arab", ..., "zul_Latn"]}    # the model's language list, in its order

    Relative paths are relative to the JSON file.
    """

    checkpoint: Path
    spm: Path
    langs: list[str]
    model: dict[str, Any]

    @staticmethod
    def read(path: str | os.PathLike) -> "PretrainedSpec":
        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LmbootError("pretrained model description not found", path=p) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise LmbootError(f"invalid JSON: {e}", path=p) from None
        for key in ("checkpoint", "spm", "langs"):
            if key not in raw:
                raise LmbootError(f"missing key {key!r}", path=p)
        if "model" in raw:
            model = dict(raw["model"])
        elif "arch" in raw:
            model = _arch_config(raw["arch"], p)
        else:
            raise LmbootError("needs 'arch' or 'model'", path=p)
        base = p.parent
        return PretrainedSpec(checkpoint=base / raw["checkpoint"], spm=base / raw["spm"],
                              langs=list(raw["langs"]), model=model)


def _init_fairseq2() -> None:
    """fairseq2's asset/model registry, needed by its model hub (once per process)."""
    from fairseq2 import init_fairseq2
    from fairseq2.error import InvalidOperationError

    try:
        init_fairseq2(no_progress=True)
    except InvalidOperationError:  # already initialised
        pass


def _arch_config(arch: str, where: Path) -> dict[str, Any]:
    from fairseq2.models.nllb import get_nllb_model_hub

    _init_fairseq2()
    cfg = get_nllb_model_hub().maybe_get_arch_config(arch)
    if cfg is None:
        raise LmbootError(f"unknown fairseq2 NLLB arch {arch!r}", path=where)
    return dataclasses.asdict(cfg)


def load_pretrained_weights(spec: PretrainedSpec, info: ModelInfo, device) -> dict[str, Any]:
    """Load the checkpoint's weights through fairseq2's model hub (converting fairseq(1) NLLB
    checkpoints); return a state dict for :func:`build_model`'s model."""
    from fairseq2.models.nllb import get_nllb_model_hub

    if not spec.checkpoint.exists():
        raise LmbootError("pretrained checkpoint not found", path=spec.checkpoint)
    _init_fairseq2()
    try:
        model = get_nllb_model_hub().load_custom_model(spec.checkpoint, info.nllb_config(), device=device,
                                                       restrict=True)
    except Exception as e:  # fairseq2 raises ModelCheckpointError and friends
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LmbootError(f"cannot load pretrained checkpoint ({first})", path=spec.checkpoint) from None
    return model.state_dict()
