"""Peak memory of `corrupt` on one large image, as a multiple of the image's size.

Each corruption runs in a fresh process: its peak resident memory (VmHWM, reset just before the call through
/proc/self/clear_refs) above the resident memory before the call, and NumPy's peak allocation (tracemalloc). Target:
under 10× the image for the corruptions that take any size; the others are refused above
`MAX_WHOLE_IMAGE_PIXELS`.

Usage: nice -n 10 python benchmarks/corruption_memory.py [--side 4000] [--preset imagenet] [--severity 5] [NAME ...]
"""

import argparse
import subprocess
import sys

TARGET = 10.0

CHILD = """
import sys, time, tracemalloc
import numpy as np
from keras_robust.corruptions import corrupt

def status(key):
    return int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith(key + ":"))) * 1024

name, side, preset, severity = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
image = np.random.default_rng(0).integers(0, 256, (1, side, side, 3), dtype=np.uint8)
corrupt(image[:, :64, :64], name, severity, preset=preset)  # imports and tables, outside the measure
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # resets VmHWM to the current resident memory
before = status("VmRSS")
tracemalloc.start()
start = time.perf_counter()
corrupt(image, name, severity, preset=preset)
seconds = time.perf_counter() - start
numpy_peak = tracemalloc.get_traced_memory()[1]
print(status("VmHWM") - before, numpy_peak, seconds, image.nbytes)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["glass_blur", "gaussian_noise", "shot_noise", "impulse_noise",
                                                     "speckle_noise", "defocus_blur", "gaussian_blur", "brightness",
                                                     "saturate", "contrast", "pixelate", "jpeg_compression"])
    parser.add_argument("--side", type=int, default=4000)
    parser.add_argument("--preset", default="imagenet", choices=("cifar", "imagenet"))
    parser.add_argument("--severity", type=int, default=5)
    args = parser.parse_args()
    print(f"one {args.side}×{args.side}×3 uint8 image ({args.side * args.side * 3 / 1e6:.0f} MB), preset "
          f"{args.preset}, severity {args.severity}; peaks above the memory before the call, × the image")
    print(f"{'corruption':<18}{'resident':>10}{'NumPy':>8}{'seconds':>9}")
    worst = 0.0
    for name in args.names:
        line = subprocess.run([sys.executable, "-c", CHILD, name, str(args.side), args.preset, str(args.severity)],
                              check=True, capture_output=True, text=True).stdout.split()
        resident, numpy_peak, seconds, size = int(line[0]), int(line[1]), float(line[2]), int(line[3])
        worst = max(worst, resident / size, numpy_peak / size)
        print(f"{name:<18}{resident / size:>10.2f}{numpy_peak / size:>8.2f}{seconds:>9.1f}", flush=True)
    print(f"worst {worst:.2f}× the image ({'meets' if worst < TARGET else 'MISSES'} the {TARGET:.0f}× target)")


if __name__ == "__main__":
    main()
