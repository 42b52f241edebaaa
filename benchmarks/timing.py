"""Timing helpers shared by the benchmarks: fastest calls over alternated rounds, training-step multiply-adds."""

import time

from keras_robust.utils import count_flops


def timer(run, seconds):
    """Seconds of the fastest of the calls of `run` that fill `seconds` (at least 2)."""
    fastest, start = float("inf"), time.perf_counter()
    calls = 0
    while calls < 2 or time.perf_counter() - start < seconds:
        begin = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - begin)
        calls += 1
    return fastest


def fastest(runs, rounds, seconds):
    """{name: seconds of its fastest call}, all runs timed in every round, in alternating order.

    The fastest call over all rounds is each run's time least disturbed by
    other work on the machine: on a shared machine it repeats better than a
    mean or median.
    """
    for run in runs.values():  # trace and warm up
        run()
        run()
    best = dict.fromkeys(runs, float("inf"))
    names = list(runs)
    for index in range(rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            best[name] = min(best[name], timer(runs[name], seconds))
    return best


def alternated(runs, rounds, seconds):
    """{name: fastest call / fastest call of the first run} (`fastest`). The inference table times a second copy
    of the base model as a control: its ratio shows the run's noise."""
    best = fastest(runs, rounds, seconds)
    first = best[next(iter(runs))]
    return {name: value / first for name, value in best.items()}


def step_flops(model):
    """Multiply-adds of one training step per image (`count_flops` layer by layer): the forward pass, the input
    gradients of every layer from the first trainable one on (the layers inside a unit need them), the weight
    gradients of the trainable layers; each gradient costs its layer's forward multiply-adds."""
    total, below = 0, False
    for name, flops in count_flops(model, per_layer=True).items():
        trainable = bool(model.get_layer(name).trainable_weights)
        below = below or trainable
        total += flops * (1 + below + trainable)
    return total
