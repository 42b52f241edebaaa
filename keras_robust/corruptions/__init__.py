"""Image corruptions: the 19 of CIFAR-10-C / ImageNet-C and the distortions of the push–pull and DeepCorrect papers."""

from keras_robust.corruptions.dataset import corrupt_dataset
from keras_robust.corruptions.distortions import (
    AWGN_SIGMAS,
    GAUSSIAN_BLUR_SIGMAS,
    gaussian_noise_variance,
    awgn,
    camera_shake_blur,
    camera_shake_kernel,
    contrast_change,
    contrast_poisson,
    defocus_disk_blur,
    gaussian_blur,
    gaussian_blur_kernel,
    motion_line_blur,
)
from keras_robust.corruptions.parameters import PRESETS, SUBSETS
from keras_robust.corruptions.suite import corrupt, names

__all__ = [
    "AWGN_SIGMAS",
    "GAUSSIAN_BLUR_SIGMAS",
    "PRESETS",
    "SUBSETS",
    "gaussian_noise_variance",
    "awgn",
    "camera_shake_blur",
    "camera_shake_kernel",
    "contrast_change",
    "contrast_poisson",
    "corrupt",
    "corrupt_dataset",
    "defocus_disk_blur",
    "gaussian_blur",
    "gaussian_blur_kernel",
    "motion_line_blur",
    "names",
]
