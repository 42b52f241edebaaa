"""FLOPs and trainable parameters of the paper's DeepCorrect models (Tables III, IV, IX, X)."""

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
PAPER = {
    "alexnet": {
        "baseline": 7.4e8,
        "full": ([8.1e8, 5.3e8, 1.2e8, 1.2e8, 5.5e7], 23.9e8, 2.81e6),
        "bottleneck": ([1.2e8, 2.0e8, 4.8e7, 4.8e7, 2.1e7], 11.8e8, 1.03e6),
        "rank_constrained": ([6.8e7, 1.1e8, 2.7e7, 2.7e7, 1.2e7], None, None),
        "unit_totals": {"full": 16.5e8, "bottleneck": 4.4e8, "rank_constrained": 2.5e8},
    },
    "resnet18": {
        "baseline": 1.8e9,
        "full": ([5.7e8] + [1.4e8] * 8, 3.5e9, 8.41e6),
        "bottleneck": ([3.6e8] + [9.2e7] * 8, 2.9e9, 5.5e6),
        "rank_constrained": ([2.0e8] + [5.1e7] * 8, None, None),
        "unit_totals": {"full": 1.7e9, "bottleneck": 1.1e9, "rank_constrained": 0.6e9},
    },
}
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
