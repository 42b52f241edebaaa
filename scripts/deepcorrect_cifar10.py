"""DeepCorrect on CIFAR-10 (JPEG copy, about quality 75): the paper's comparison, resumable, arm by arm.

Two stages, each a list of runs (model, distortion, arm, seed) trained with
`fit_deepcorrect` (batches half clean, half distorted at a random level, the
authors' augmentation, Sec. V-A schedule) and evaluated on the clean test
images and every level of the distortion:

- `--stage probe`: the units' learning rate and warm-up at equal steps
  (identity start, real ranking), the paper's 0.1 among them, with
  Finetune and a random filter order beside them; evaluated on 1,000
  class-balanced test images.
- `--stage full`: the arms of Table II at the paper's length (10 epochs of
  all 50,000 training images = 7,820 steps of 64, the paper's 62,500
  iterations of 8 ≈ 10 epochs), evaluated on all 10,000 test images, with
  Fig. 8's curve (top-1 against steps from step 0 on 1,000 class-balanced
  test images).

Every run saves its state every `--eval-every` steps under `--runs-dir` and
a kill loses at most that interval: run the same command again to resume.
The results file (`--output`) is rewritten after every measurement, with
each run's steps done against its planned steps. The tutorial's tables and
figure are generated from it (`docs/hooks/deepcorrect_results.py`).

    python scripts/deepcorrect_cifar10.py --stage probe
    python scripts/deepcorrect_cifar10.py --stage full --distortions awgn gaussian_blur \\
        --arms Finetune Deepcorr --seeds 0
"""

import argparse
import fcntl
import json
import math
import time
from pathlib import Path

import keras
import numpy as np

from keras_robust import applications
from keras_robust.atomic import atomic_output
from keras_robust.datasets import load_cifar10_jpeg
from keras_robust.deepcorrect import (
    bn_recalibrated_copy, build_deepcorrect, finetune_copy, fit_deepcorrect, rank_filters, to_rank_constrained,
    trainable_parameters,
)
from keras_robust.deepcorrect.decomposition import ranks_for_flops
from keras_robust.deepcorrect.distortions import DISTORTIONS, distort_levels, resolve
from keras_robust.deepcorrect.evaluation import AccuracyCurve, distorted_sets, top1_over_levels
from keras_robust.deepcorrect.pipeline import mixed_distortion_dataset
from keras_robust.utils import count_flops

# As ResNet18 in the paper: after the stem (its batch norm) and after every skip-connection merge, 75% corrected.
POINTS = ["conv1"] + [f"layer{s}_{b}_add" for s in (1, 2, 3) for b in (0, 1, 2)]
BETA = 0.75
FINETUNE_RATE = 0.01  # 10x below the pretraining rate, as the paper (0.001 for AlexNet) and the authors' CIFAR code
PAPER_RATE = 0.1  # the paper's rate for correction units, after one warm-up epoch at a tenth of it
PAPER_EPOCHS = 10  # the paper's 62,500 iterations of 8 images
PROBE_CONTROL_RATE = 0.01  # the probe's random-order and batch-norm controls: the best rate of an earlier probe


def arms(unit_rate, unit_warmup):
    """Every arm: how its model is made and trained (`None`: evaluated untrained)."""
    units = dict(kind="deepcorrect", rate=unit_rate, warmup=unit_warmup, order="ranked", batch_norm="frozen")
    return {
        "Baseline": dict(kind="baseline"),
        "BN recal.": dict(kind="recalibrated"),
        "Finetune": dict(kind="finetune", rate=FINETUNE_RATE, warmup=0.0),
        "Deepcorr": dict(units, unit="full", start="identity"),
        "Deepcorr (He start)": dict(units, unit="full", start="he_normal", rate=PAPER_RATE, warmup=1.0),
        "Deepcorr (BN adapt)": dict(units, unit="full", start="identity", batch_norm="adapt"),
        "Deepcorr-b": dict(units, unit="bottleneck", start="identity"),
        "Deepcorr-rc": dict(kind="rank_constrained", source="Deepcorr-b"),
        "Deepcorr-b + BN recal.": dict(units, unit="bottleneck", start="identity", recalibrated=True),
        "Deepcorr random order": dict(units, unit="full", start="identity", order="random"),
    }


def probe_runs(args):
    """The probe: Deepcorr (identity start) at each rate with and without warm-up, the paper's He start at its
    rate, Finetune, and the best-guess rate on a random filter order."""
    runs = [dict(arm="Finetune", kind="finetune", rate=FINETUNE_RATE, warmup=0.0)]
    for rate in args.probe_rates:
        for warmup in (0.0, 0.1):
            runs.append(dict(arm="Deepcorr", kind="deepcorrect", unit="full", start="identity", order="ranked",
                             batch_norm="frozen", rate=rate, warmup=warmup))
    runs.append(dict(arm="Deepcorr (He start)", kind="deepcorrect", unit="full", start="he_normal", order="ranked",
                     batch_norm="frozen", rate=PAPER_RATE, warmup=0.1))
    runs.append(dict(arm="Deepcorr random order", kind="deepcorrect", unit="full", start="identity", order="random",
                     batch_norm="frozen", rate=PROBE_CONTROL_RATE, warmup=0.1))
    runs.append(dict(arm="Deepcorr (BN adapt)", kind="deepcorrect", unit="full", start="identity", order="ranked",
                     batch_norm="adapt", rate=PROBE_CONTROL_RATE, warmup=0.1))
    return runs


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--stage", choices=("probe", "full"), default="full")
    add("--data", default="../shared/data/cifar10-jpeg", help="folder with train.tar.gz and test.tar.gz")
    add("--models", nargs="+", default=["ResNet20"])
    add("--distortions", nargs="+", default=["awgn", "gaussian_blur"], choices=sorted(DISTORTIONS))
    add("--arms", nargs="+", default=["Finetune", "Deepcorr"],
        help="full stage: arms, each optionally ARM:EPOCHS (default 10 epochs)")
    add("--seeds", nargs="+", type=int, default=[0])
    add("--epochs", type=int, default=PAPER_EPOCHS, help="epochs of an arm without its own")
    add("--train-images", type=int, default=50000)
    add("--test-images", type=int, default=10000, help="full stage: test images of the final evaluation")
    add("--rank-images", type=int, default=1000, help="training images the filters are ranked on")
    add("--balanced-images", type=int, default=1000, help="class-balanced test images of the curves and the probe")
    add("--eval-every", type=int, default=391, help="steps between curve points and saved states")
    add("--batch-size", type=int, default=64)
    add("--unit-rate", default="best",
        help="correction units' rate after the warm-up, or 'best': the rate and warm-up of the best identity-start "
             "Deepcorr run of the probe (in --output)")
    add("--unit-warmup", type=float, default=1.0, help="epochs at a tenth of the units' rate first (with a rate)")
    add("--probe-rates", nargs="+", type=float, default=[0.1, 0.01, 0.001])
    add("--probe-steps", type=int, default=300)
    add("--runs-dir", default="runs/deepcorrect_cifar10", help="resumable state of every run")
    add("--output", default="scripts/deepcorrect_cifar10_results.json")
    return parser.parse_args()


def slug(*parts):
    return "_".join(str(p).lower().replace(" ", "-").replace("(", "").replace(")", "").replace(".", "")
                    .replace("+", "plus") for p in parts)


def run_key(model_name, distortion, arm, seed, epochs):
    """A run's key; a run shorter than the paper's 10 epochs is a different run, named with its length."""
    return slug(model_name, distortion, arm, f"s{seed}", *([f"e{epochs}"] if epochs != PAPER_EPOCHS else []))


class Results:
    """The results file, shared by calls that run side by side: every change is read-modify-write under a lock, so
    each call's runs are kept; rewritten atomically."""

    def __init__(self, path, settings):
        self.path = Path(path)
        self.settings = settings
        self.data = self._update(lambda data: None)

    def _update(self, change):
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(self.path.read_text()) if self.path.exists() else {}
            for group in ("probe", "runs", "rankings"):
                data.setdefault(group, {})
            data["settings"] = {**data.get("settings", {}), **self.settings}
            change(data)
            with atomic_output(self.path, overwrite=True) as tmp:
                tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        return data

    def put(self, group, key, entry):
        self.data = self._update(lambda data: data[group].__setitem__(key, entry))


def balanced_rows(labels, count):
    """`count` test images, as many of each class, the first of each in file order."""
    classes = np.unique(labels)
    per_class = count // len(classes)
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in classes]))


class Experiment:
    def __init__(self, args, log):
        self.args, self.log = args, log
        limit = max(args.train_images, args.rank_images)
        train_x, train_y, _ = load_cifar10_jpeg(args.data, "train", limit=None if limit >= 50000 else limit, seed=0)
        # The tarball is sorted by class: shuffled once, so that the first n images (the probe's) hold every class.
        shuffled = np.random.default_rng(0).permutation(len(train_y))
        self.train_x, self.train_y = train_x[shuffled], train_y[shuffled]
        test_x, test_y, _ = load_cifar10_jpeg(args.data, "test")
        rows = balanced_rows(test_y, args.balanced_images)
        self.balanced = (test_x[rows], test_y[rows])
        rest = np.random.default_rng(0).permutation(len(test_y))[:args.test_images]
        self.test = (test_x[np.sort(rest)], test_y[np.sort(rest)])
        self.results = Results(args.output, {"points": POINTS, "beta": BETA, "batch_size": args.batch_size,
                                             "backend": keras.backend.backend(), "data": "CIFAR-10 JPEG (q≈75)"})
        self.bases, self.sets = {}, {}

    def base(self, name):
        if name not in self.bases:
            self.bases[name] = getattr(applications, name)(weights="cifar10")
        return self.bases[name]

    def test_sets(self, which, distortion):
        key = (which, distortion)
        if key not in self.sets:
            images, labels = self.balanced if which == "balanced" else self.test
            self.sets[key] = (distorted_sets(images, distortion, seed=100), labels)
        return self.sets[key]

    def ranking(self, model_name, distortion, order, seed):
        """Filter orders of the correction points: Eq. 1's ranking (computed once, kept in the results), or a
        random order drawn from the seed (the paper's Fig. 7 control)."""
        key = f"{model_name}/{distortion}"
        if key not in self.results.data["rankings"]:
            started = time.time()
            rows = np.random.default_rng(1).permutation(len(self.train_x))[:self.args.rank_images]
            clean = self.train_x[rows].astype("float32")
            ranking = rank_filters(self.base(model_name), POINTS, clean,
                                   distort_levels(clean, distortion, seed=200), self.train_y[rows])
            self.results.put("rankings", key, {k: v.tolist() for k, v in ranking.orders.items()})
            self.log(f"ranked {key} in {time.time() - started:.0f} s")
        orders = {k: np.asarray(v) for k, v in self.results.data["rankings"][key].items()}
        if order == "random":
            rng = np.random.default_rng([seed, 7])
            orders = {k: rng.permutation(v) for k, v in orders.items()}
        return orders

    def model(self, spec, model_name, distortion, seed):
        base = self.base(model_name)
        if spec["kind"] in ("baseline",):
            return base
        if spec["kind"] == "finetune":
            return finetune_copy(base)
        if spec["kind"] == "recalibrated":
            return bn_recalibrated_copy(base, self.batches(distortion, seed))
        if spec.get("recalibrated"):
            base = bn_recalibrated_copy(base, self.batches(distortion, seed))
        keras.utils.set_random_seed(seed)
        return build_deepcorrect(base, self.ranking(model_name, distortion, spec["order"], seed),
                                 {p: BETA for p in POINTS}, unit=spec["unit"], start=spec["start"],
                                 batch_norm=spec["batch_norm"])

    def batches(self, distortion, seed):
        """One epoch of training batches: what the batch-norm recalibration averages over."""
        steps = math.ceil(len(self.train_x) / self.args.batch_size)
        return mixed_distortion_dataset(self.train_x, self.train_y, distortion, batch_size=self.args.batch_size,
                                        seed=seed, stop_step=steps)

    def run(self, group, key, spec, model_name, distortion, seed, epochs, images, final):
        """Train (resuming) and evaluate one run; its entry is rewritten at every measurement."""
        entry = self.results.data[group].get(key)
        if entry and entry.get("status") == "done":
            return
        started = time.time()
        train_x, train_y = self.train_x[:images], self.train_y[:images]
        steps = epochs * math.ceil(images / self.args.batch_size)
        entry = {"model": model_name, "distortion": distortion, "arm": spec["arm"], "seed": seed,
                 "spec": {k: v for k, v in spec.items() if k != "arm"}, "epochs": epochs, "train_images": images,
                 "steps_planned": steps, "steps_done": 0, "status": "running",
                 "levels": list(resolve(distortion).levels), "seconds": (entry or {}).get("seconds", 0.0)}
        if spec["kind"] == "rank_constrained":
            model = self.rank_constrained(spec, model_name, distortion, seed, epochs, group)
            if model is None:
                self.log(f"{key}: waits for {spec['source']}")
                return
            source = run_key(model_name, distortion, spec["source"], seed, epochs)
            entry["trainable_parameters"] = self.results.data[group][source]["trainable_parameters"]
            entry["steps_planned"] = 0
        else:
            model = self.model(spec, model_name, distortion, seed)
            entry["trainable_parameters"] = trainable_parameters(model) if "rate" in spec else 0
            entry["steps_planned"] = entry["steps_planned"] if "rate" in spec else 0
        entry["flops"] = count_flops(model)
        if "rate" in spec:
            sets, labels = self.test_sets("balanced", distortion)
            curve = AccuracyCurve(sets, labels, every=self.args.eval_every)

            class Record(keras.callbacks.Callback):
                def on_train_batch_end(inner, batch, logs=None):
                    step = int(keras.ops.convert_to_numpy(inner.model.optimizer.iterations))
                    if step % self.args.eval_every == 0:
                        entry.update(steps_done=step, curve=curve.get_state(),
                                     seconds=entry["seconds"] + time.time() - record.since)
                        record.since = time.time()
                        self.results.put(group, key, entry)
                        self.log(f"{key}: step {step}/{steps}, balanced top-1 {curve.points[-1][1]:.4f}")

            record = Record()
            record.since = time.time()
            fit_deepcorrect(model, train_x, train_y, distortion, epochs=epochs, batch_size=self.args.batch_size,
                            learning_rate=spec["rate"], warmup_epochs=spec["warmup"], seed=seed,
                            callbacks=[curve, record], checkpoint_dir=Path(self.args.runs_dir) / group / key,
                            save_every=self.args.eval_every)
            entry.update(steps_done=steps, curve=curve.get_state(),
                         seconds=entry["seconds"] + time.time() - record.since)
            model.save_weights(Path(self.args.runs_dir) / group / key / "final.weights.h5", overwrite=True)
        sets, labels = self.test_sets("test" if final else "balanced", distortion)
        mean, per_level = top1_over_levels(model, sets, labels)
        entry.update(top1=mean, per_level={str(k): v for k, v in per_level.items()}, status="done",
                     evaluated_on=len(labels))
        if spec["kind"] != "rank_constrained" and "rate" not in spec:
            entry["seconds"] = time.time() - started
        self.results.put(group, key, entry)
        self.log(f"{key}: top-1 {mean:.4f} over clean + {len(per_level) - 1} levels, {len(labels)} test images")

    def rank_constrained(self, spec, model_name, distortion, seed, epochs, group):
        """Deepcorr-rc: the trained Deepcorr-b's units and every 3x3 convolution decomposed to the base's FLOPs."""
        source = run_key(model_name, distortion, spec["source"], seed, epochs)
        weights = Path(self.args.runs_dir) / group / source / "final.weights.h5"
        if self.results.data[group].get(source, {}).get("status") != "done" or not weights.exists():
            return None
        bottleneck = self.model(arms(self.args.unit_rate, self.args.unit_warmup)[spec["source"]], model_name,
                                distortion, seed)
        bottleneck.load_weights(weights)
        depths = {layer.name.removesuffix("_correction"): layer.unit.depth for layer in bottleneck.layers
                  if hasattr(layer, "unit")}
        units = to_rank_constrained(bottleneck, {n: max(1, round(0.75 * d)) for n, d in depths.items()})
        return to_rank_constrained(units, base_ranks=ranks_for_flops(units, count_flops(self.base(model_name))))


def best_probe(probe):
    """(rate, warm-up epochs of a 10-epoch run) of the probe's best identity-start Deepcorr with the real ranking."""
    runs = [r for r in probe.values() if r["arm"] == "Deepcorr" and r["status"] == "done"]
    if not runs:
        raise SystemExit("--unit-rate best needs the probe's results: run --stage probe first, or pass a rate.")
    best = max(runs, key=lambda r: r["top1"])
    return best["spec"]["rate"], best["spec"]["warmup"] * 10  # the probe's warm-up is a tenth of its steps


def main():
    args = parse()
    started = time.time()

    def log(message):
        print(f"[{time.time() - started:7.0f}s] {message}", flush=True)

    experiment = Experiment(args, log)
    if args.unit_rate == "best" and args.stage == "full":
        args.unit_rate, args.unit_warmup = best_probe(experiment.results.data["probe"])
        log(f"units' rate {args.unit_rate}, warm-up {args.unit_warmup} epochs (best of the probe)")
    args.unit_rate = float(args.unit_rate) if args.unit_rate != "best" else PROBE_CONTROL_RATE
    table = arms(args.unit_rate, args.unit_warmup)
    for model_name in args.models:
        for distortion in args.distortions:
            if args.stage == "probe":
                images = args.probe_steps * args.batch_size
                for spec in probe_runs(args):
                    key = slug(model_name, distortion, spec["arm"], f"lr{spec['rate']}", f"w{spec['warmup']}")
                    experiment.run("probe", key, spec, model_name, distortion, 0, 1, images, final=False)
                continue
            for seed in args.seeds:
                for item in args.arms:
                    arm, _, epochs = item.partition(":")
                    spec = dict(table[arm], arm=arm)
                    epochs = int(epochs or args.epochs)
                    experiment.run("runs", run_key(model_name, distortion, arm, seed, epochs), spec, model_name,
                                   distortion, seed, epochs, args.train_images, final=True)
    log("done")


if __name__ == "__main__":
    main()
