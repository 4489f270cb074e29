"""A script written the PyTorch way runs on tinygrad_rnn with only its imports changed.

tests/porting/word_lm_script.py is an LSTM word language model in PyTorch's idioms
(tied weights, ``size()``, ``narrow``, ``view``, ``t().contiguous()``, ``new_zeros``,
``next(model.parameters())``, detached state, ``nn.NLLLoss``, SGD with momentum,
clipping, ``StepLR``, ``no_grad`` evaluation). The test runs it under PyTorch and under
tinygrad_rnn, with only the four import lines replaced, from the same initial weights
in float64, and checks every training loss, every validation loss and every final
parameter against PyTorch's.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).parent / "porting" / "word_lm_script.py"
TORCH_IMPORTS = """import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
"""
OUR_IMPORTS = """import tinygrad_rnn as torch
import tinygrad_rnn.nn as nn
import tinygrad_rnn.nn.functional as F
import tinygrad_rnn.optim as optim
"""
TEXT = """the cat sat on the mat and the dog sat on the log
a bird in the hand is worth two in the bush
the quick brown fox jumps over the lazy dog
an apple a day keeps the doctor away
all that glitters is not gold
the early bird catches the worm but the second mouse gets the cheese
where there is smoke there is fire
the pen is mightier than the sword""".splitlines()


def load_as_module(name: str, source: str, tmp_path: Path):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_only_the_import_lines_change():
    source = SCRIPT.read_text()
    ported = source.replace(TORCH_IMPORTS, OUR_IMPORTS)
    changed = [a for a, b in zip(source.splitlines(), ported.splitlines(), strict=True) if a != b]
    assert len(changed) == 4, changed


def test_word_lm_script_tracks_pytorch(tmp_path):
    pytest.importorskip("torch")
    source = SCRIPT.read_text()
    theirs = load_as_module("word_lm_torch", source, tmp_path)
    ours = load_as_module("word_lm_ours", source.replace(TORCH_IMPORTS, OUR_IMPORTS), tmp_path)
    train, valid = TEXT[:6], TEXT[6:]

    # The same initial weights for both: PyTorch's, read off an untrained model.
    _, _, initial, _ = theirs.main(train, valid, epochs=0)
    their_losses, their_val, their_final, their_names = theirs.main(train, valid, state_dict=initial)
    our_losses, our_val, our_final, our_names = ours.main(
        train, valid, state_dict={k: v.numpy() for k, v in initial.items()})

    assert our_names == their_names  # the tied weight is one parameter, named once
    assert sorted(our_final) == sorted(their_final)  # ... and saved under both names
    assert len(our_losses) == len(their_losses) > 10
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(our_val, their_val, rtol=1e-9)
    for key, value in their_final.items():
        np.testing.assert_allclose(np.asarray(our_final[key]), value.numpy(), rtol=1e-8, atol=1e-11, err_msg=key)
    assert their_losses[-1] < their_losses[0]  # the script trains
