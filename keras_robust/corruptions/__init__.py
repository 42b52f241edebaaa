"""Image corruptions: the 19 of CIFAR-10-C / ImageNet-C and the distortions of the push–pull and DeepCorrect papers.

Every distortion is one named entry of the registry (`list_distortions`, `get_distortion`, `distort`); `corrupt` is
the CIFAR-10-C / ImageNet-C function of the 19 corruptions.
"""

from keras_robust.corruptions.dataset import corrupt_dataset
from keras_robust.corruptions.distortions import (
    awgn,
    camera_shake_blur,
    camera_shake_kernel,
    contrast_change,
    contrast_poisson,
    deepcorrect_gaussian_blur,
    deepcorrect_gaussian_taps,
    defocus_disk_blur,
    gaussian_noise_variance,
    motion_line_blur,
)
from keras_robust.corruptions.parameters import PRESETS, SUBSETS
from keras_robust.corruptions.registry import Distortion, distort, get_distortion, list_distortions
from keras_robust.corruptions.suite import corrupt, names

__all__ = [
    "Distortion",
    "PRESETS",
    "SUBSETS",
    "awgn",
    "camera_shake_blur",
    "camera_shake_kernel",
    "contrast_change",
    "contrast_poisson",
    "corrupt",
    "corrupt_dataset",
    "deepcorrect_gaussian_blur",
    "deepcorrect_gaussian_taps",
    "defocus_disk_blur",
    "distort",
    "gaussian_noise_variance",
    "get_distortion",
    "list_distortions",
    "motion_line_blur",
    "names",
]
