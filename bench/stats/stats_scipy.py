"""Time scipy.stats.spearmanr and kendalltau on the arrays bench_stats saved.

Reads <kind>_<n>_x.npy and <kind>_<n>_y.npy from the folder given as the
first argument, for the same sizes and kinds as bench_stats, and prints one
line per call in bench_stats' format: the best and median of --repeats
timed calls after one untimed warm-up, and the value.

Run it with Debian's /usr/bin/python3 and python3-scipy, on one thread:
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 stats_scipy.py DIR
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

SIZES = (50000, 1281167)
KINDS = ("continuous", "tied")


def time_call(function, x, y, repeats):
    """Return (best, median, value) of repeats timed calls."""
    value = function(x, y)[0]
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = function(x, y)[0]
        seconds.append(time.perf_counter() - start)
    return min(seconds), statistics.median_low(seconds), float(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print("scipy %s, numpy %s, %d timed repeats per call after one warm-up"
          % (scipy.__version__, np.__version__, args.repeats))
    calls = (("spearman", stats.spearmanr), ("kendall", stats.kendalltau))
    for n in SIZES:
        for kind in KINDS:
            x = np.load(args.folder / ("%s_%d_x.npy" % (kind, n)))
            y = np.load(args.folder / ("%s_%d_y.npy" % (kind, n)))
            for name, function in calls:
                best, median, value = time_call(function, x, y, args.repeats)
                print("n=%d data=%s statistic=%s seconds_best=%.6f "
                      "seconds_median=%.6f value=%.17g"
                      % (n, kind, name, best, median, value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
