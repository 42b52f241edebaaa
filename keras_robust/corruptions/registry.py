"""One registry of every distortion the package knows, each with its level table, and one `distort` function.

Names are ``family/name``: ``cifar/<corruption>`` and ``imagenet/<corruption>`` (the 19 corruptions of
CIFAR-10-C / ImageNet-C at severities 1..5), ``pushpull/...`` (the push–pull paper's Figs. 4 and 5),
``deepcorrect/...`` (DeepCorrect's CIFAR levels and its Sec. V-B blurs) and ``deepcorrect-imagenet/...``.

One seeding rule: ``seed`` is an integer (default 0) and the output is a function of the images, the level and the
seed alone, whatever the threads. The same seed at two levels draws the same random numbers (common random numbers,
so curves over levels compare like with like); pass different seeds for independent draws.
"""

import dataclasses
import difflib
import inspect
from typing import Callable

from keras_robust.corruptions import distortions
from keras_robust.corruptions.parameters import PRESETS
from keras_robust.corruptions.suite import corrupt, names
from keras_robust.metrics import SEVERITIES
from keras_robust.validation import check_int

CORRUPTION_SOURCES = {
    "cifar": "Hendrycks & Dietterich (2019), make_cifar_c.py parameters (32×32 images)",
    "imagenet": "Hendrycks & Dietterich (2019), make_imagenet_c.py parameters (224×224 images)",
}
PUSHPULL = "Strisciuglio, Lopez-Antequera & Petkov (2020), push–pull layer"
DEEPCORRECT = "Borkar & Karam (2019), DeepCorrect"


@dataclasses.dataclass(frozen=True)
class Distortion:
    """A named distortion and its level table.

    Args:
        name: registry name ``family/name``.
        levels: the levels in order (severities, σ, variances or contrast factors).
        level_name: what a level is: ``"severity"``, ``"sigma"``, ``"variance"``, ``"contrast"``, ...
        description: one line on what it does and what it returns.
        source: paper and code the definition and levels come from.
        function: ``function(images, level, seed, **options)`` computing the distortion.
        options: ``(name, value)`` pairs passed to ``function`` by default (see `with_options`).

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import get_distortion
        >>> awgn = get_distortion("deepcorrect/awgn")
        >>> awgn.levels, awgn.level_name
        ((5.0, 10.0, 15.0, 20.0, 25.0, 30.0), 'sigma')
        >>> awgn.apply(np.full((2, 32, 32, 3), 128, np.uint8), 30, seed=1).dtype
        dtype('float32')
    """

    name: str
    levels: tuple
    level_name: str = "level"
    description: str = ""
    source: str = ""
    function: Callable = dataclasses.field(default=None, repr=False, compare=False)
    options: tuple = ()

    def __post_init__(self):
        if not callable(self.function):
            raise ValueError(f"`function` must be callable. Received: function={self.function!r}")
        object.__setattr__(self, "levels", tuple(self.levels))
        if not self.levels:
            raise ValueError(f"`levels` must hold at least one level. Received: levels={self.levels!r}")
        object.__setattr__(self, "options", tuple(sorted(dict(self.options).items())))
        self._check_options(dict(self.options))

    @property
    def family(self):
        """The part of the name before the slash (``"cifar"``, ``"deepcorrect"``, ...)."""
        return self.name.split("/", 1)[0]

    @property
    def config(self):
        """What changes the output besides images, level and seed: for cache keys and records."""
        return {"name": self.name, "options": dict(self.options)}

    def option_names(self):
        """The keyword options `function` accepts (e.g. ``("clip",)``)."""
        parameters = inspect.signature(self.function).parameters.values()
        return tuple(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)

    def with_options(self, **options):
        """A copy whose default options are updated, e.g. ``get_distortion("deepcorrect/awgn").with_options(clip=True)``."""
        return dataclasses.replace(self, options={**dict(self.options), **options})

    def with_levels(self, levels):
        """A copy with another level table (e.g. a subset, or σ the paper did not use)."""
        return dataclasses.replace(self, levels=tuple(levels))

    def apply(self, images, level, *, seed=0, **options):
        """Distorts a batch at one level.

        Args:
            images: uint8 array ``(N, H, W, C)`` on the 0..255 scale.
            level: one level (any value the distortion accepts, not only those of ``levels``).
            seed: integer seed; the output depends only on the images, the level and the seed.
            **options: options of this distortion overriding its defaults (see `option_names`).

        Returns:
            An array of the images' shape: uint8, or float32 on the 0..255 scale for the distortions that follow
            the authors' float arithmetic (see ``description``).
        """
        check_int("seed", seed, minimum=0)
        self._check_options(options)
        return self.function(images, level, int(seed), **{**dict(self.options), **options})

    def _check_options(self, options):
        unknown = sorted(set(options) - set(self.option_names()))
        if unknown:
            accepted = ", ".join(self.option_names()) or "none"
            raise ValueError(f"Unknown option(s) {unknown} for distortion {self.name!r}. "
                             f"Received: {options}; accepted: {accepted}.")


def _corruption(preset, name):
    def function(images, level, seed):
        return corrupt(images, name, level, preset=preset, seed=seed)

    return Distortion(f"{preset}/{name}", SEVERITIES, "severity",
                      f"{name.replace('_', ' ')} of {'CIFAR-10-C' if preset == 'cifar' else 'ImageNet-C'} (uint8)",
                      CORRUPTION_SOURCES[preset], function)


def _pushpull_noise(images, level, seed, *, clip=False):
    return distortions.gaussian_noise_variance(images, level, seed=seed, clip=clip)


def _pushpull_contrast(images, level, seed, *, photons=255.0):
    return distortions.contrast_poisson(images, level, photons=photons, seed=seed)


def _awgn(images, level, seed, *, clip=False):
    return distortions.awgn(images, level, seed=seed, clip=clip)


def _gaussian_blur(images, level, seed, *, kernel="authors", border="zero"):
    return distortions.deepcorrect_gaussian_blur(images, level, kernel=kernel, border=border)


def _defocus(images, level, seed):
    return distortions.defocus_disk_blur(images, level)


def _motion(images, level, seed, *, direction="horizontal"):
    return distortions.motion_line_blur(images, level, direction)


def _camera_shake(images, level, seed):
    return distortions.camera_shake_blur(images, size=level, seed=seed)


_AWGN = "additive white Gaussian noise of σ grey levels; float32, unclipped as the authors' code (clip=True: uint8)"
_BLUR = ("Gaussian blur of σ pixels, the authors' 4σ+1-tap kernel; float32 "
         "(kernel='paper_text' and border='edge': the package's earlier even kernel)")


def _entries():
    entries = [_corruption(preset, name) for preset in PRESETS for name in names()]
    entries += [
        Distortion("pushpull/gaussian_noise", (0.01, 0.05, 0.1, 0.15, 0.2, 0.3), "variance",
                   "Gaussian noise of variance σ² on [0, 1] images; float32 on 0..255, unclipped as the authors' "
                   "noise transform (clip=True: uint8)", f"{PUSHPULL}, Fig. 4 (levels: ours, the text quotes 0.1 "
                   "and 0.2)", _pushpull_noise),
        Distortion("pushpull/contrast", (0.5, 0.4, 0.3, 0.2), "contrast",
                   "contrast (I − 0.5)·C + 0.5, then Poisson noise (255 photons for white); uint8",
                   f"{PUSHPULL}, Fig. 5", _pushpull_contrast),
        Distortion("deepcorrect/gaussian_blur", (0.5, 1.0, 1.5, 2.0, 2.5, 3.0), "sigma", _BLUR,
                   f"{DEEPCORRECT}, CIFAR levels of the authors' cifardata_gen.py", _gaussian_blur),
        Distortion("deepcorrect/awgn", (5.0, 10.0, 15.0, 20.0, 25.0, 30.0), "sigma", _AWGN,
                   f"{DEEPCORRECT}, CIFAR levels of the authors' cifardata_gen.py", _awgn),
        # The authors blurred 256-pixel images and cropped 227: no zero border reaches the crop; mirror it instead.
        Distortion("deepcorrect-imagenet/gaussian_blur", (1, 2, 3, 4, 5, 6), "sigma",
                   _BLUR + "; border mirrored (the authors' zero border fell outside their centre crop)",
                   f"{DEEPCORRECT}, Sec. III-A and Imagenet_datagen.py", _gaussian_blur, {"border": "mirror"}),
        Distortion("deepcorrect-imagenet/awgn", (10, 20, 40, 60, 80, 100), "sigma", _AWGN,
                   f"{DEEPCORRECT}, Sec. III-A and Imagenet_datagen.py", _awgn),
        Distortion("deepcorrect/defocus_blur", (1, 2, 3, 4, 5, 6), "radius",
                   "uniform disk of radius r pixels, edge border; uint8",
                   f"{DEEPCORRECT}, Sec. V-B after Vasiljevic et al. (radii: ours, the paper gives none)", _defocus),
        Distortion("deepcorrect/motion_blur", (3, 5, 7, 9, 11, 13), "length",
                   "box one pixel wide and L pixels long (direction='horizontal' or 'vertical'), edge border; uint8",
                   f"{DEEPCORRECT}, Sec. V-B after Vasiljevic et al. (lengths: ours, the paper gives none)", _motion),
        Distortion("deepcorrect/camera_shake_blur", (5, 9, 13, 17, 21, 25), "kernel size",
                   "random camera-shake kernel of the given side, drawn from the seed, edge border; uint8",
                   f"{DEEPCORRECT}, Sec. V-B (sizes: ours; the paper averages 100 kernels: seeds 0..99)",
                   _camera_shake),
    ]
    return {entry.name: entry for entry in entries}


_REGISTRY = _entries()


def list_distortions(family=None):
    """Names of the registered distortions, optionally of one family.

    Args:
        family: ``None`` for all, or ``"cifar"``, ``"imagenet"``, ``"pushpull"``, ``"deepcorrect"``,
            ``"deepcorrect-imagenet"``.

    Returns:
        A tuple of names ``family/name``.

    Example:
        >>> from keras_robust.corruptions import list_distortions
        >>> list_distortions("pushpull")
        ('pushpull/gaussian_noise', 'pushpull/contrast')
    """
    if family is None:
        return tuple(_REGISTRY)
    families = tuple(dict.fromkeys(entry.family for entry in _REGISTRY.values()))
    if family not in families:
        raise ValueError(f"Unknown distortion family. Received: family={family!r}; accepted: None, "
                         f"{', '.join(map(repr, families))}.")
    return tuple(name for name, entry in _REGISTRY.items() if entry.family == family)


def get_distortion(name, *, family=None):
    """The registered `Distortion` called `name`.

    A short name (no ``/``) means one entry only once a family is named: the one home of short names, so that
    ``"awgn"`` is ``deepcorrect/awgn`` where the family is ``"deepcorrect"`` (``robust-cli rank`` and
    ``deepcorrect``, `fit_deepcorrect`: CIFAR levels) and ``deepcorrect-imagenet/awgn`` where it is
    ``"deepcorrect-imagenet"`` (``robust-cli transfer``: ImageNet levels), never a guess. Results carry the full name.

    Args:
        name: a name of `list_distortions`, e.g. ``"cifar/fog"`` or ``"deepcorrect/awgn"``; with `family`, also
            a name within it, e.g. ``"awgn"``.
        family: ``None`` (full names only) or a family of `list_distortions` in which short names are looked up.

    Returns:
        A `Distortion`.

    Example:
        >>> from keras_robust.corruptions import get_distortion
        >>> get_distortion("cifar/fog").levels
        (1, 2, 3, 4, 5)
        >>> get_distortion("awgn", family="deepcorrect-imagenet").name
        'deepcorrect-imagenet/awgn'
    """
    if isinstance(name, Distortion):
        return name
    if family is not None and isinstance(name, str) and "/" not in name:
        members = list_distortions(family)  # checks the family
        if f"{family}/{name}" not in members:
            raise ValueError(f"Unknown distortion of family {family!r}. Received: name={name!r}; accepted: "
                             f"{', '.join(member.split('/', 1)[1] for member in members)}, or a full name of "
                             "list_distortions().")
        name = f"{family}/{name}"
    if name in _REGISTRY:
        return _REGISTRY[name]
    text = str(name)
    close = [entry for entry in _REGISTRY if entry.split("/", 1)[1] == text.split("/")[-1]]
    close += [entry for entry in difflib.get_close_matches(text, _REGISTRY, n=3) if entry not in close]
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"Unknown distortion. Received: name={name!r}.{hint} Accepted: {', '.join(_REGISTRY)}.")


def distort(images, name, level, *, seed=0, **options):
    """Distorts a batch of images with the registered distortion `name` at `level`.

    Args:
        images: uint8 array ``(N, H, W, C)`` on the 0..255 scale.
        name: a name of `list_distortions` (or a `Distortion`).
        level: one of its levels (severity 1..5 for the 19 corruptions, σ, variance or contrast for the others).
        seed: integer seed; the output depends only on the images, the level and the seed.
        **options: the distortion's options, e.g. ``clip=True`` for the noises.

    Returns:
        An array of the images' shape: uint8, or float32 on the 0..255 scale for DeepCorrect's AWGN and Gaussian
        blur and the push–pull Gaussian noise (the authors' unrounded, unclipped values).

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import distort
        >>> images = np.full((2, 32, 32, 3), 255, np.uint8)
        >>> bool(distort(images, "deepcorrect/awgn", 30).max() > 255)
        True
        >>> int(distort(images, "deepcorrect/awgn", 30, clip=True).max())
        255
    """
    return get_distortion(name).apply(images, level, seed=seed, **options)
