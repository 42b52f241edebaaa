"""FLOPs and trainable parameters of the paper's DeepCorrect models (Tables III, IV, IX, X)."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_robust.deepcorrect import build_deepcorrect, to_rank_constrained
from keras_robust.deepcorrect.decomposition import ranks_for_flops
from keras_robust.deepcorrect.paper_models import (
    ALEXNET_DEEPCORRECT, RESNET18_DEEPCORRECT, alexnet_imagenet, resnet18_imagenet,
)
from keras_robust.deepcorrect.training import trainable_parameters
from keras_robust.utils import count_flops

# Per correction unit (Tables IV and X), total model FLOPs and trainable
# parameters (Tables III and IX), as printed in the paper.
PAPER = json.loads((Path(__file__).parent / "data" / "deepcorrect_tables.json").read_text())
# Table IV prints 1.1e8 for AlexNet's rank-constrained Corr-unit 2, but its
# layers (1x1 192->96, 3 x [3x1 96->72, 1x3 72->96], 1x1 96->192 at 27x27)
# make 1.18e8; the column total 2.5e8 agrees with 1.18e8.
TOLERANCE = {("alexnet", "rank_constrained", 1): 0.07}


@pytest.fixture(scope="module", params=["alexnet", "resnet18"])
def paper_model(request):
    if request.param == "alexnet":
        return alexnet_imagenet(), ALEXNET_DEEPCORRECT
    return resnet18_imagenet(), RESNET18_DEEPCORRECT


def test_count_flops_simple_layers():
    model = keras.Sequential([
        keras.Input((10, 10, 4)),
        keras.layers.Conv2D(6, 3, padding="same"),
        keras.layers.Conv2D(8, 3, strides=2, groups=2),
        keras.layers.DepthwiseConv2D(3, padding="same"),
        keras.layers.BatchNormalization(name="norm"),
        keras.layers.Flatten(),
        keras.layers.Dense(5),
    ])
    expected = 6 * 9 * 4 * 100 + 8 * 9 * 3 * 16 + 8 * 9 * 16 + 128 * 5
    assert count_flops(model) == expected
    per_layer = count_flops(model, per_layer=True)
    assert sum(per_layer.values()) == expected and per_layer["norm"] == 0


@pytest.mark.parametrize("unit", ["full", "bottleneck", "rank_constrained"])
def test_paper_deepcorrect_flops_and_parameters(paper_model, unit):
    model, config = paper_model
    paper = PAPER[model.name]
    base = count_flops(model)
    assert base == pytest.approx(paper["baseline"], rel=0.05)
    orders = {name: np.arange(model.get_layer(name).output.shape[-1]) for name in config["betas"]}
    corrected = build_deepcorrect(
        model, orders, config["betas"], unit=unit,
        trainable_layers=config.get("trainable_layers", ()), **config[unit],
    )
    per_layer = count_flops(corrected, per_layer=True)
    units = [per_layer[f"{name}_correction"] for name in config["betas"]]
    expected_units, expected_total, expected_parameters = paper[unit]
    for index, (measured, printed) in enumerate(zip(units, expected_units)):
        rel = TOLERANCE.get((model.name, unit, index), 0.05)
        assert measured == pytest.approx(printed, rel=rel), (index, measured, printed)
    assert sum(units) == pytest.approx(paper["unit_totals"][unit], rel=0.05)
    assert count_flops(corrected) == base + sum(units)
    if expected_total is not None:
        assert count_flops(corrected) == pytest.approx(expected_total, rel=0.05)
        assert trainable_parameters(corrected) == pytest.approx(expected_parameters, rel=0.05)


def test_whole_deepcorr_rc_rule_against_tables_iii_and_ix(paper_model):
    """Section IV-C: every k×k convolution decomposed, P such that the model costs the baseline's FLOPs."""
    model, config = paper_model
    base = count_flops(model)
    orders = {name: np.arange(model.get_layer(name).output.shape[-1]) for name in config["betas"]}
    units = build_deepcorrect(model, orders, config["betas"], unit="rank_constrained", **config["rank_constrained"])
    ranks = ranks_for_flops(units, base)
    rc = to_rank_constrained(units, base_ranks=ranks)
    measured = count_flops(rc)
    assert 0.99 * base <= measured <= base  # the common fraction spends the budget
    kxk = [l.name for l in model.layers if isinstance(l, keras.layers.Conv2D) and min(l.kernel_size) > 1]
    assert sorted(ranks) == sorted(kxk)
    assert all(isinstance(rc.get_layer(name), keras.Sequential) for name in kxk)
    printed = {"alexnet": 7.8e8, "resnet18": 1.8e9}[model.name]
    if model.name == "resnet18":
        assert measured == pytest.approx(printed, rel=0.05)
    else:
        # Table III's 7.8e8 is 5% above the paper's own 7.4e8 baseline, so the
        # stated rule (the baseline's cost) lands 7% below it; the text's
        # "additional 29% reduction" of the pretrained layers matches instead.
        assert measured / printed - 1 == pytest.approx(-0.072, abs=0.01)
        units_flops = count_flops(units) - base
        reduced = ranks_for_flops(units, 0.71 * base + units_flops)
        assert count_flops(to_rank_constrained(units, base_ranks=reduced)) == pytest.approx(printed, rel=0.05)


def test_push_pull_counts_push_and_pull_convolutions():
    import keras

    from keras_robust.layers import PushPull2D
    from keras_robust.utils import count_flops

    model = keras.Sequential([keras.Input((32, 32, 3)), PushPull2D(16, 3, padding="same")])
    # 3x3 push and 7x7 pull kernels, 16 filters, 3 channels, 32x32 outputs
    assert count_flops(model) == 32 * 32 * 16 * 3 * (9 + 49)
