"""The 19 corruptions of CIFAR-10-C / ImageNet-C: ``corrupt`` and ``names``."""

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from keras_robust.corruptions import blur, color, digital, filters, noise, spatter, weather
from keras_robust.corruptions.parameters import FROST_TEXTURE_SCALE, PRESETS, SUBSETS
from keras_robust.validation import check_int

# pixel values per chunk of images: float32 temporaries of 8 MB, and enough chunks to keep all cores busy
_CHUNK_VALUES = 1 << 21
# pixels per image (1024 × 1024) of the corruptions that see the whole image at once in memory growing to tens of
# times its size (zoom blur's operator: hundreds); the others take images of any size in bands of rows
MAX_WHOLE_IMAGE_PIXELS = 1 << 20


class _Corruption(NamedTuple):
    function: object
    on_uint8: bool = False  # takes and returns uint8 pixels instead of [0, 1] floats
    needs_colour: bool = False  # grey images go through RGB and back to luma
    # chunks on the helper threads too; the cheap table and resampling passes run faster on the calling thread alone
    # (their OpenCV calls use OpenCV's own threads), measured on 2 cores
    threaded: bool = True
    # rows of context a band of rows needs, from the parameters: one large image runs in bands of rows
    # (`filters.in_row_bands`, the same bytes in a fraction of the memory); None: the whole image at once
    halo: object = None
    # sees the whole image at once in memory of many times its size: refused above MAX_WHOLE_IMAGE_PIXELS
    capped: bool = False


def _pixelwise(params):
    return 0


def _disk_halo(params):
    return filters.disk_kernel(*params).shape[0] // 2


_CORRUPTIONS = {
    "gaussian_noise": _Corruption(noise.gaussian_noise, halo=_pixelwise),
    "shot_noise": _Corruption(noise.shot_noise, on_uint8=True, halo=_pixelwise),
    "impulse_noise": _Corruption(noise.impulse_noise, on_uint8=True, halo=_pixelwise),
    "speckle_noise": _Corruption(noise.speckle_noise, halo=_pixelwise),
    "defocus_blur": _Corruption(blur.defocus_blur, halo=_disk_halo),
    "glass_blur": _Corruption(blur.glass_blur, on_uint8=True),  # in bands of its own
    "motion_blur": _Corruption(blur.motion_blur, capped=True),
    "zoom_blur": _Corruption(blur.zoom_blur, capped=True),
    "gaussian_blur": _Corruption(blur.gaussian_blur, halo=filters.gaussian_radius),
    "snow": _Corruption(weather.snow, needs_colour=True, capped=True),
    "frost": _Corruption(weather.frost, needs_colour=True, capped=True),
    "fog": _Corruption(weather.fog, capped=True),
    "spatter": _Corruption(spatter.spatter, needs_colour=True, capped=True),
    "brightness": _Corruption(weather.brightness, on_uint8=True, needs_colour=True, halo=_pixelwise),
    "contrast": _Corruption(digital.contrast, on_uint8=True),
    "elastic_transform": _Corruption(digital.elastic_transform, capped=True),
    "pixelate": _Corruption(digital.pixelate, on_uint8=True, threaded=False),
    "jpeg_compression": _Corruption(digital.jpeg_compression, on_uint8=True),
    "saturate": _Corruption(digital.saturate, on_uint8=True, needs_colour=True, halo=_pixelwise),
}


def names(subset=None):
    """Names of the 19 corruptions, grouped noise, blur, weather, digital (the push–pull paper's grouping).

    Args:
        subset: ``None`` for all 19, or one of ``"noise"``, ``"blur"``, ``"weather"``, ``"digital"``.

    Returns:
        A tuple of names.

    Example:
        >>> names("noise")
        ('gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise')
    """
    if subset is None:
        return tuple(name for group in SUBSETS.values() for name in group)
    if subset not in SUBSETS:
        raise ValueError(f"Unknown corruption subset. Received: subset={subset!r}; accepted: None, {', '.join(map(repr, SUBSETS))}.")
    return SUBSETS[subset]


def corrupt(images, name, severity, *, preset="cifar", seed=0):
    """Corrupts a batch of images like the CIFAR-10-C or ImageNet-C generators.

    Args:
        images: uint8 array ``(N, H, W, C)`` with ``C`` 1 or 3 and sides of at least 8 pixels. Grey images are
            corrupted directly, except by the colour effects (snow, frost, spatter, brightness, saturate), which see
            them as grey RGB and return the BT.601 luma. One large image runs in bands of rows (the same bytes, in
            a few times its memory); motion and zoom blur, snow, frost, fog, spatter and the elastic transform,
            which need the whole image at once, refuse images of more than `MAX_WHOLE_IMAGE_PIXELS` pixels.
        name: one of `names`.
        severity: integer 1 to 5.
        preset: ``"cifar"`` (the CIFAR-10-C generator's parameters, for 32×32 images) or ``"imagenet"`` (the
            ImageNet-C generator's, for 224×224 images). Either works on any image size.
        seed: an integer (or a sequence of integers) for the same bytes on every run, on any number of cores
            (chunks of the batch run on the calling thread and helper threads, each with its own stream); ``None``
            explicitly asks for fresh randomness.

    Returns:
        uint8 array of the images' shape. Float results are truncated like the generators' ``np.uint8``.

    Example:
        >>> import numpy as np
        >>> images = np.full((2, 32, 32, 3), 128, np.uint8)
        >>> corrupt(images, "contrast", 5)[0, 0, 0].tolist()
        [128, 128, 128]
    """
    images = _check_images(images)
    corruption = _check_name(name)
    _check_severity(severity)
    if preset not in PRESETS:
        raise ValueError(f"Unknown preset. Received: preset={preset!r}; accepted: 'cifar', 'imagenet'.")
    params = PRESETS[preset][name][severity - 1]
    function = corruption.function
    if name == "frost":
        function = functools.partial(function, texture_scale=FROST_TEXTURE_SCALE[preset])
    n, h, w, c = images.shape
    if corruption.capped and h * w > MAX_WHOLE_IMAGE_PIXELS:
        raise ValueError(
            f"{name} works on the whole image at once, in memory of tens of times its size: it takes images of at "
            f"most {MAX_WHOLE_IMAGE_PIXELS} pixels. Received: shape={images.shape} ({h * w} pixels per image); "
            f"accepted: H × W <= {MAX_WHOLE_IMAGE_PIXELS} for {', '.join(_capped())} (resize the images first); "
            "the other corruptions take any size."
        )
    grey = c == 1 and corruption.needs_colour  # corrupted as grey RGB, returned as luma
    out = np.empty(images.shape, np.uint8)
    # chunks of equal size (at most _CHUNK_VALUES values, counting the RGB copy of grey images), so the threads
    # finish together
    step = -(-n // -(-n * h * w * (3 if grey else c) // _CHUNK_VALUES))
    starts = range(0, n, step)
    # one random stream per chunk, fixed by the seed and the chunking alone: the bytes do not depend on the threads
    try:
        streams = np.random.default_rng(seed).spawn(len(starts))
    except (TypeError, ValueError):
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed!r}") from None

    def corrupt_pixels(pixels, rng):
        if grey:
            pixels = np.repeat(pixels, 3, axis=-1)
        if corruption.on_uint8:
            result = function(pixels, params, rng)
            return color.truncate(color.luma(result.astype(np.float32) / 255)) if grey else result
        result = function(color.unit(pixels), params, rng)
        return color.truncate(color.luma(np.clip(result, 0, 1)) if grey else result)

    def corrupt_chunk(start, rng):
        chunk, target = images[start : start + step], out[start : start + step]
        if corruption.halo is None:
            target[...] = corrupt_pixels(chunk, rng)
        else:  # bands of one large image share its stream, drawn in order
            filters.in_row_bands(functools.partial(corrupt_pixels, rng=rng), chunk, target,
                                 halo=corruption.halo(params), rows=filters.band_rows(chunk))

    _run_chunks(corrupt_chunk, list(zip(starts, streams)), threaded=corruption.threaded)
    return out


def _run_chunks(work, tasks, *, threaded=True):
    """Runs ``work(*task)`` for every task on the calling thread and the helper threads, which take tasks in turn.

    NumPy, SciPy, Pillow and TensorFlow release the GIL in their loops, so the threads share the work. The calling
    thread works too instead of waiting: handing every chunk to idle threads cost about 2 ms per call on a 2-vCPU
    machine, half of what 20 images of 224×224 take to pixelate.
    """
    remaining, lock = iter(tasks), threading.Lock()

    def take_tasks():
        while True:
            with lock:
                task = next(remaining, None)
            if task is None:
                return
            work(*task)

    pool, count = _helper_threads() if threaded else (None, 0)
    helpers = [pool.submit(take_tasks) for _ in range(min(count, len(tasks) - 1))]
    try:
        take_tasks()
    finally:
        for helper in helpers:
            helper.result()


@functools.cache
def _helper_threads():
    """One pool for the process, one thread per core beside the caller's (TensorFlow sets up every new thread)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return ThreadPoolExecutor(max(cores - 1, 1), thread_name_prefix="keras_robust_corrupt"), cores - 1


def _capped():
    return [name for name, corruption in _CORRUPTIONS.items() if corruption.capped]


def _check_images(images):
    if not isinstance(images, np.ndarray):
        raise ValueError(
            f"`images` must be a numpy uint8 array (N, H, W, C). Received: {type(images).__name__}; accepted: "
            "numpy.ndarray of dtype uint8 (convert with np.asarray(images, np.uint8))."
        )
    if images.dtype != np.uint8:
        raise ValueError(f"`images` must have dtype uint8. Received: dtype={images.dtype}; accepted: uint8 in 0..255.")
    if images.ndim != 4:
        raise ValueError(
            f"`images` must have rank 4 (N, H, W, C). Received: shape={images.shape}; accepted: a batch, e.g. images[None]."
        )
    if len(images) == 0:
        raise ValueError(f"`images` must hold at least one image. Received: shape={images.shape} (empty batch)")
    if images.shape[-1] not in (1, 3):
        raise ValueError(f"`images` must have 1 or 3 channels. Received: shape={images.shape}; accepted: C in (1, 3).")
    if min(images.shape[1:3]) < 8:
        raise ValueError(f"`images` must be at least 8×8 pixels. Received: shape={images.shape}.")
    return images


def _check_name(name):
    if not isinstance(name, str) or name not in _CORRUPTIONS:
        raise ValueError(f"Unknown corruption. Received: name={name!r}; accepted: {', '.join(names())}.")
    return _CORRUPTIONS[name]


def _check_severity(severity):
    check_int("severity", severity, minimum=1, maximum=5)
