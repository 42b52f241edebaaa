"""Distortions applied to training and test images alike, one level at a time."""

from dataclasses import dataclass, field

DEEPCORRECT = ("awgn", "gaussian_blur")


@dataclass(frozen=True)
class Distortion:
    """A distortion applied at several levels.

    Args:
        name: name in results and cache keys.
        levels: the levels, in order (e.g. blur sigma 1..6).
        apply: `apply(images_uint8, level, seed) -> images_uint8`; `seed`
            is the position of the batch, for reproducible noise.
        config: whatever else changes the output (preset, seed), for cache keys.
    """

    name: str
    levels: tuple
    apply: object = field(compare=False)
    config: dict = field(default_factory=dict, compare=False)


def deepcorrect_distortion(name, sigmas=None, *, seed=0):
    """DeepCorrect's AWGN (sigma_n on 0..255) or Gaussian blur (sigma_b, kernel side 4 sigma_b).

    Args:
        name: "awgn" or "gaussian_blur".
        sigmas: the levels; default the paper's (10, 20, 40, 60, 80, 100)
            and (1, 2, 3, 4, 5, 6).
        seed: base seed of the noise.
    """
    from keras_robust import corruptions

    if name not in DEEPCORRECT:
        raise ValueError(f"DeepCorrect distortions are {DEEPCORRECT}. Received: name={name!r}")
    if name == "awgn":
        default = corruptions.AWGN_SIGMAS

        def apply(images, sigma, batch_seed):
            return corruptions.awgn(images, sigma, seed=seed + batch_seed)
    else:
        default = corruptions.GAUSSIAN_BLUR_SIGMAS

        def apply(images, sigma, batch_seed):
            return corruptions.gaussian_blur(images, sigma)

    return Distortion(name, tuple(sigmas or default), apply, {"kind": "deepcorrect", "seed": seed})


def corruption(name, severities=(1, 2, 3, 4, 5), *, preset="cifar", seed=0):
    """A corruption of `keras_robust.corruptions.corrupt` at `severities` of `preset`."""
    from keras_robust import corruptions

    if name not in corruptions.names():
        raise ValueError(
            f"Unknown distortion {name!r}. Accepted: {', '.join(DEEPCORRECT)} (DeepCorrect's sigma levels) "
            f"or a corruption of keras_robust.corruptions: {', '.join(corruptions.names())}"
        )

    def apply(images, severity, batch_seed):
        return corruptions.corrupt(images, name, severity, preset=preset, seed=seed + batch_seed)

    return Distortion(name, tuple(severities), apply, {"kind": "corrupt", "preset": preset, "seed": seed})


def resolve_distortion(name, levels=None, *, preset=None, seed=0):
    """DeepCorrect's sigma levels for "awgn" and "gaussian_blur" unless a `preset` is named, else `corrupt`."""
    if name in DEEPCORRECT and preset is None:
        return deepcorrect_distortion(name, levels, seed=seed)
    return corruption(name, levels or (1, 2, 3, 4, 5), preset=preset or "cifar", seed=seed)
