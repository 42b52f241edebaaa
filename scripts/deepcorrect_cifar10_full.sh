#!/usr/bin/env bash
# The DeepCorrect experiment's full runs, resumable: run it again after any interruption and every run continues
# from its last saved state (runs/deepcorrect_cifar10/). Two processes side by side, one core each, so that Finetune
# and Deepcorr advance together and Fig. 8 compares them at equal steps at any moment; then the other arms.
# Results: scripts/deepcorrect_cifar10_results.json. Needs the probe's results (--stage probe) for --unit-rate best.
set -u
cd "$(dirname "$0")/.."
export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
mkdir -p runs
run() { .venv/bin/python scripts/deepcorrect_cifar10.py --stage full "$@"; }
{ run --distortions awgn --arms Finetune --seeds 0; run --distortions gaussian_blur --arms Finetune --seeds 0
  run --distortions awgn gaussian_blur --arms Finetune --seeds 1; } > runs/finetune.log 2>&1 &
{ run --distortions awgn --arms Deepcorr --seeds 0; run --distortions gaussian_blur --arms Deepcorr --seeds 0
  run --distortions awgn gaussian_blur --arms Deepcorr --seeds 1; } > runs/deepcorr.log 2>&1 &
wait
run --distortions awgn gaussian_blur --seeds 0 --arms Baseline "BN recal." "Deepcorr (He start)" Deepcorr-b \
    Deepcorr-rc "Deepcorr-b + BN recal." > runs/other_arms.log 2>&1
