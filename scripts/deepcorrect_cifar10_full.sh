#!/usr/bin/env bash
# The DeepCorrect experiment's full runs, resumable: run it again after any interruption and every run continues
# from its last saved state (runs/deepcorrect_cifar10/); finished runs are skipped. Two chains side by side, one core
# each. Chain A: Deepcorr (identity start) at the paper's length, seed 0 then seed 1. Chain B: the untrained arms,
# Finetune seed 1 (AWGN), the other arms at 2 of the paper's 10 epochs (each reported with its ratio to 10 epochs),
# then Finetune seed 1 (Gaussian blur).
# Results: scripts/deepcorrect_cifar10_results.json. Needs the probe's results (--stage probe) for --unit-rate best.
set -u
cd "$(dirname "$0")/.."
export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
mkdir -p runs
run() { .venv/bin/python scripts/deepcorrect_cifar10.py --stage full "$@"; }
SHORT=("Deepcorr (He start):2" "Deepcorr-b:2" "Deepcorr-rc:2" "Deepcorr-b + BN recal.:2")
{ run --distortions awgn gaussian_blur --arms Finetune Deepcorr --seeds 0
  run --distortions awgn gaussian_blur --arms Deepcorr --seeds 1; } > runs/deepcorr.log 2>&1 &
{ run --distortions awgn gaussian_blur --arms Baseline "BN recal." --seeds 0
  run --distortions awgn --arms Finetune --seeds 1
  run --distortions awgn --arms "${SHORT[@]}" --seeds 0
  run --distortions gaussian_blur --arms "${SHORT[@]}" --seeds 0
  run --distortions gaussian_blur --arms Finetune --seeds 1; } > runs/other_arms.log 2>&1 &
wait
