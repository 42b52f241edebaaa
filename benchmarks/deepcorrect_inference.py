"""DeepCorrect: inference time of each variant against its FLOPs, and training-step time against Finetune.

ResNet20 with correction units (β = 0.75) after the stem and every block:
Deepcorr (full units), Deepcorr-b (bottleneck), Deepcorr-rc units (rank-
constrained units) and Deepcorr-rc (rank-constrained units, every 3×3
convolution decomposed to the base model's FLOPs). For each, the training
form (`build_deepcorrect`, `ChannelCorrection` gathers) and the inference
form (`optimize_for_inference`: batch norm folded, ReLUs fused, the maps
between convolutions padded to multiples of 8) and the same without padding
(`channel_multiple=1`) are timed against the base ResNet20 (its own
inference form), all models alternated inside every
round, at batch 1 and batch 256; the table gives the ratio of the fastest
calls (`alternated`), next to the FLOPs ratio (`count_flops`, the
paper's count, of the training form), and at the largest batch each
form's multiply-adds per second relative to ResNet20's next to the rate
its target needs (`print_rates`). Then one training step (SGD,
`train_on_batch`) of Deepcorr and Deepcorr-b against one of Finetune (every
layer trainable), alternated the same way. Random weights: time does not
depend on them. The backend is Keras' (`KERAS_BACKEND=jax` for JAX).

    nice -n 10 .venv/bin/python benchmarks/deepcorrect_inference.py --rounds 3
    nice -n 10 .venv/bin/python benchmarks/deepcorrect_inference.py --rounds 3 --xla --batches 256
"""

import argparse

import keras
import numpy as np

from keras_robust.applications import ResNet20
from keras_robust.deepcorrect import build_deepcorrect, finetune_copy, optimize_for_inference, to_rank_constrained
from keras_robust.utils import count_flops
from timing import alternated, step_flops, timer

POINTS = ["conv1"] + [f"layer{s}_{b}_add" for s in (1, 2, 3) for b in (0, 1, 2)]
CONTROL = "ResNet20, a second copy (control: its ratio is the run's noise)"
PAPER_RATIOS = {  # FLOPs relative to the baseline, Tables III (AlexNet) and IX (ResNet18)
    "Deepcorr": (23.9 / 7.4, 3.5 / 1.8),
    "Deepcorr-b": (11.8 / 7.4, 2.9 / 1.8),
    "Deepcorr-rc units": ((7.4 + 2.5) / 7.4, (1.8 + 0.6) / 1.8),  # unit totals of Tables IV and X
    "Deepcorr-rc": (7.8 / 7.4, 1.8 / 1.8),
}


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7,
                        help="alternated rounds (the fastest call of each model is kept)")
    parser.add_argument("--batches", default="1,256", help="comma-separated batch sizes")
    parser.add_argument("--train-batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=0.5, help="least time per model per round and batch")
    parser.add_argument("--xla", action="store_true",
                        help="compile every model, the base included, with jit_compile=True (XLA) for predict")
    return parser.parse_args()


def variants(base):
    """Training forms: {name: model}, each built as the DeepCorrect experiment builds it."""
    orders = {n: np.arange(base.get_layer(n).output.shape[-1]) for n in POINTS}
    full = build_deepcorrect(base, orders, 0.75, unit="full")
    bottleneck = build_deepcorrect(base, orders, 0.75, unit="bottleneck")
    ranks = {l.name.removesuffix("_correction"): max(1, round(0.75 * l.unit.depth))
             for l in bottleneck.layers if hasattr(l, "unit")}
    return {
        "Deepcorr": full,
        "Deepcorr-b": bottleneck,
        "Deepcorr-rc units": to_rank_constrained(bottleneck, ranks),
        "Deepcorr-rc": to_rank_constrained(bottleneck, ranks, target_flops=count_flops(base)),
    }


def predictor(model, batch, xla=False):
    images = np.random.default_rng(0).uniform(0, 255, (batch, *model.inputs[0].shape[1:])).astype("float32")
    if xla:
        model.compile(jit_compile=True)
    return lambda: model.predict_on_batch(images)


CONV_SHAPES = {  # name: (kernel, input channels, filters), all on 32×32 maps
    "ResNet20 3×3 16→16": ((3, 3), 16, 16), "Deepcorr unit 3×3 12→12": ((3, 3), 12, 12),
    "Deepcorr-b unit 3×3 6→6": ((3, 3), 6, 6), "padded 3×3 8→8": ((3, 3), 8, 8),
    "rc unit 3×1 6→4": ((3, 1), 6, 4), "rc unit 1×3 4→6": ((1, 3), 4, 6), "padded 3×1 8→8": ((3, 1), 8, 8),
    "unit 1×1 16→6": ((1, 1), 16, 6), "padded 1×1 16→8": ((1, 1), 16, 8),
}


def conv_rates(batch, rounds, seconds, xla=False):
    """Time relative to the first and multiply-adds per second of one convolution + ReLU at the shapes above."""
    runs, macs = {}, {}
    for name, (kernel, channels, filters) in CONV_SHAPES.items():
        conv = keras.layers.Conv2D(filters, kernel, padding="same", activation="relu")
        model = keras.Sequential([keras.Input((32, 32, channels)), conv])
        runs[name] = predictor(model, batch, xla)
        macs[name] = batch * 32 * 32 * kernel[0] * kernel[1] * channels * filters
    ratios = alternated(runs, rounds, seconds)
    seconds_first = timer(runs[next(iter(runs))], seconds)
    return {name: (ratios[name], macs[name] / (ratios[name] * seconds_first) / 1e9) for name in runs}



def print_rates(models, ratios, batch, trained, merged, base_flops):
    """Multiply-adds per second of each form as run, relative to ResNet20's, next to the rate the target needs.

    A form with M times ResNet20's multiply-adds (`count_flops` of the form
    as run: padded maps and merged pairs count) meets the target (time ratio
    at most 1.2 × the FLOPs ratio F of the training form) only if it runs
    its multiply-adds at least M / (1.2 F) times as fast as ResNet20 runs its
    own; the padded forms of Deepcorr-rc need more than ResNet20's rate.
    """
    rows = [(f"{name} {form}", name) for name in trained for form in ("unpadded form", "inference form")]
    rows += [(f"{row} inference form", name) for row, name in merged.items()]
    print(f"\nbatch {batch}: multiply-adds per second relative to ResNet20's, as run and as the target needs\n"
          "| model, form | FLOPs ratio (training form) | multiply-adds ratio (as run) | time ratio | rate "
          "| rate needed |\n|---|---|---|---|---|---|")
    for row, name in rows:
        flops, macs = count_flops(trained[name]) / base_flops, count_flops(models[row]) / base_flops
        print(f"| {row} | {flops:.2f} | {macs:.2f} | {ratios[row]:.2f} | {macs / ratios[row]:.2f} "
              f"| {macs / (1.2 * flops):.2f} |")


def trainer(model, batch):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (batch, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 10, batch)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
                  loss="sparse_categorical_crossentropy")
    return lambda: model.train_on_batch(images, labels)


def max_difference(models, trained, batch=8):
    """Largest |inference form − training form| over the softmax outputs of `batch` random images, per variant."""
    images = np.random.default_rng(1).uniform(0, 255, (batch, 32, 32, 3)).astype("float32")
    return max(float(np.max(np.abs(models[f"{name} inference form"].predict_on_batch(images)
                                   - model.predict_on_batch(images)))) for name, model in trained.items())


def only_classifier(model):
    """A copy of `model` whose last layer alone is trainable: the step's cost without the units' weight gradients."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for layer in copy.layers:
        layer.trainable = layer is copy.layers[-1]
    return copy


def main():
    args = parse()
    base = ResNet20(weights=None)
    trained = variants(base)
    base_flops = count_flops(base)
    models = {"ResNet20": optimize_for_inference(base), CONTROL: optimize_for_inference(base)}
    for name, model in trained.items():
        models[f"{name} training form"] = model
        models[f"{name} unpadded form"] = optimize_for_inference(model, channel_multiple=1)
        models[f"{name} inference form"] = optimize_for_inference(model)
    merged = {f"{name}, pairs merged (`merge_pairs=\"always\"`)": name for name in ("Deepcorr-rc units", "Deepcorr-rc")}
    for row, name in merged.items():
        models[f"{row} inference form"] = optimize_for_inference(trained[name], merge_pairs="always")
    print(f"backend {keras.backend.backend()}, {args.rounds} alternated rounds, ratios of the fastest calls"
          + (", every model compiled with XLA" if args.xla else ""))
    print(f"largest |inference form - training form| of the softmax outputs: {max_difference(models, trained):.1e}")
    batches = [int(b) for b in args.batches.split(",")]
    results = {b: alternated({n: predictor(m, b, args.xla) for n, m in models.items()}, args.rounds, args.seconds)
               for b in batches}
    forms = ("training form", "unpadded form", "inference form")
    header = "| model | FLOPs ratio | " + " | ".join(
        f"batch {b}, {form}" for b in batches for form in forms) + " | paper FLOPs ratio, AlexNet | ResNet18 |"
    print("\ntime ratios against ResNet20 (unpadded: `channel_multiple=1`)\n" + header
          + "\n|---|---|" + "---|" * (len(batches) * len(forms) + 2))
    for name, model in trained.items():
        cells = [f"{results[b][f'{name} {form}']:.2f}" for b in batches for form in forms]
        paper = " | ".join(f"{r:.2f}" for r in PAPER_RATIOS[name])
        print(f"| {name} | {count_flops(model) / base_flops:.2f} | " + " | ".join(cells) + f" | {paper} |")
    print(f"| {CONTROL} | 1.00 | " + " | ".join(f"- | - | {results[b][CONTROL]:.2f}" for b in batches) + " | - | - |")
    for row, name in merged.items():
        cells = [f"- | - | {results[b][f'{row} inference form']:.2f}" for b in batches]
        print(f"| {row} | {count_flops(trained[name]) / base_flops:.2f} | " + " | ".join(cells) + " | - | - |")
    print_rates(models, results[max(batches)], max(batches), trained, merged, base_flops)
    rates = conv_rates(max(batches), args.rounds, args.seconds, args.xla)
    print("\none convolution + ReLU on 32×32 maps, batch " + str(max(batches)) + ": " + ", ".join(
        f"{n}: time {r:.2f}× the first, {g:.1f} GMAC/s" for n, (r, g) in rates.items()))

    steps = {"Finetune": finetune_copy(base), "Deepcorr": trained["Deepcorr"], "Deepcorr-b": trained["Deepcorr-b"],
             "Deepcorr, only the classifier trainable": only_classifier(trained["Deepcorr"])}
    step_ratios = alternated({n: trainer(m, args.train_batch) for n, m in steps.items()},
                             args.rounds, args.seconds)
    print(f"\ntraining step (batch {args.train_batch}) relative to Finetune: "
          + ", ".join(f"{n} {r:.2f}" for n, r in step_ratios.items() if n != "Finetune"))
    print("training-step multiply-adds relative to Finetune's (forward, input and weight gradients): " + ", ".join(
        f"{n} {step_flops(m) / step_flops(steps['Finetune']):.2f}" for n, m in steps.items() if n != "Finetune"))


if __name__ == "__main__":
    main()
