"""Training presets of a model directory: a name lmboot does not know is an error (fast, no torch)."""
from __future__ import annotations

import pytest

from lmboot.errors import LmbootError
from lmboot.nmt.model import CUSTOM, PRESETS, training_preset


def test_known_presets_and_custom():
    for name, preset in PRESETS.items():
        assert training_preset(name) is preset
    assert training_preset(CUSTOM) is PRESETS["small"]  # a model from a pretrained checkpoint


def test_unknown_preset_is_an_error_naming_the_config_not_smalls_learning_rate(tmp_path):
    with pytest.raises(LmbootError, match="unknown preset 'huge'") as e:
        training_preset("huge", tmp_path / "config.json")
    assert "config.json" in str(e.value)
