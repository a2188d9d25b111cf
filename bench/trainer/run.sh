#!/usr/bin/env bash
# Times the built-in trainer and the same network and recipe in PyTorch in
# one run, with the same thread count. Usage:
#   bench/trainer/run.sh [BUILD_DIR] [--epochs E] [--threads T] [--first N]
# BUILD_DIR defaults to build/ and must hold a Release build with benches.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
[ $# -gt 0 ] && shift
epochs=3 threads=2 first=0
while [ $# -gt 0 ]; do
    case $1 in
        --epochs) epochs=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --first) first=$2; shift 2 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

bench=$build/bench/trainer/bench_trainer
if [ ! -x "$bench" ]; then
    echo "run.sh: $bench not found; build with -DCMAKE_BUILD_TYPE=Release first" >&2
    exit 1
fi
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "run.sh: PyTorch is missing; install Debian's python3-torch" >&2
    exit 1
fi

echo "== cscore built-in trainer"
c_out=$("$bench" --epochs "$epochs" --threads "$threads" --first "$first")
echo "$c_out"
echo "== PyTorch"
torch_out=$(OMP_NUM_THREADS=$threads /usr/bin/python3 "$here/trainer_torch.py" \
    --epochs "$epochs" --threads "$threads" --first "$first")
echo "$torch_out"

c_train=$(sed -n 's/.*training pass \([0-9.]*\) s.*/\1/p' <<<"$c_out")
torch_train=$(sed -n 's/.*training pass \([0-9.]*\) s.*/\1/p' <<<"$torch_out")
c_eval=$(sed -n 's/.*evaluation pass \([0-9.]*\) s.*/\1/p' <<<"$c_out")
torch_eval=$(sed -n 's/.*evaluation pass \([0-9.]*\) s.*/\1/p' <<<"$torch_out")
echo
printf '%-22s %10s %10s %8s\n' "seconds per epoch" cscore PyTorch ratio
printf '%-22s %10s %10s %8.2f\n' "training pass" "$c_train" "$torch_train" \
    "$(/usr/bin/python3 -c "print($torch_train / $c_train)")"
printf '%-22s %10s %10s %8.2f\n' "evaluation pass" "$c_eval" "$torch_eval" \
    "$(/usr/bin/python3 -c "print($torch_eval / $c_eval)")"
grep 'hook' <<<"$c_out" | tail -1
