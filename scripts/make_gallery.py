"""Draw the corruption gallery of the docs: the 19 corruptions (rows) at severities 1-5 (columns).

Each cell shows the same three images of the embedded CIFAR-10 sample side by side (`--images`, positions in
`keras_robust.datasets.load_cifar10_sample()`), corrupted with `keras_robust.corruptions.corrupt` (preset `cifar`,
seed 0); the first column shows them clean. Writes `docs/img/corruption_gallery.png` (refused if it exists, unless
`--overwrite`).

    .venv/bin/python scripts/make_gallery.py --overwrite
"""

import argparse
from pathlib import Path

import numpy as np

from keras_robust import corruptions
from keras_robust.atomic import atomic_output
from keras_robust.datasets import load_cifar10_sample

ROOT = Path(__file__).resolve().parents[1]


def strip(images, gap=2):
    """The images side by side, `gap` white pixels apart."""
    white = np.full((images.shape[1], gap, 3), 255, np.uint8)
    parts = [part for image in images for part in (image, white)][:-1]
    return np.concatenate(parts, axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", default="3,17,28", help="Comma-separated positions in the CIFAR-10 sample.")
    parser.add_argument("--output", default=ROOT / "docs/img/corruption_gallery.png", type=Path)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images, _, _ = load_cifar10_sample()
    chosen = images[[int(i) for i in args.images.split(",")]]
    names = corruptions.names()
    fig, axes = plt.subplots(len(names), 6, figsize=(12, 0.7 * len(names) + 0.3))
    for row, name in enumerate(names):
        cells = [chosen] + [corruptions.corrupt(chosen, name, severity, seed=0) for severity in range(1, 6)]
        for column, cell in enumerate(cells):
            ax = axes[row, column]
            ax.imshow(strip(cell), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title("clean" if column == 0 else f"severity {column}", fontsize=10)
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=10)
    fig.tight_layout(pad=0.3)
    with atomic_output(args.output, overwrite=args.overwrite, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=72, format="png")
    plt.close(fig)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
