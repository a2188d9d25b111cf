#!/usr/bin/python3
"""Input files and reference values for tests/cli/test_bench.sh.

  bench_fixtures.py generate DIR [SHARED_DIR]
      writes small truth and proxies files (.npz, .npy, CSV, a tiny IDX
      image file) into DIR, and proxies for the published C-scores when
      SHARED_DIR has them.
  bench_fixtures.py check-correlate DIR CASE STDOUT
      compares a `cscore correlate --bootstrap 0` table with scipy.stats.
  bench_fixtures.py check-bench DIR RESULTS_FOLDER
      compares results.csv and results.json of `cscore bench` with values
      computed here from the same files.

Each check prints "ok: NAME" or "FAILED: NAME: why"; the exit status is 1
when any check failed. The references are computed independently of
cscore: scipy.stats for the correlations, a direct count over pairs for
the AUROC, sorting for the rankings.
"""

import gzip
import json
import math
import os
import struct
import sys

import numpy as np
import scipy.stats

N_TRUTH = 300
N_FIRST = 200  # a proxies file "from --first 200"
N_EPOCHS = 4
N_CLASSES = 3

failures = 0


def report(name, ok, detail=""):
    global failures
    if ok:
        print(f"ok: {name}")
    else:
        failures += 1
        print(f"FAILED: {name}: {detail}")


# ---------------------------------------------------------------------------
# Files


def make_truth(rng):
    labels = rng.integers(0, N_CLASSES, N_TRUTH).astype(np.int64)
    scores = rng.random(N_TRUTH)
    scores[[5, 150]] = np.nan  # an example never held out
    return scores, labels


def make_proxies(rng, truth, labels):
    """Proxies of the first N_FIRST examples, rows in shuffled order."""
    ids = rng.permutation(N_FIRST).astype(np.int64)
    t = np.nan_to_num(truth[ids], nan=0.5)
    p_l = np.clip(t + rng.normal(0, 0.2, N_FIRST), 0, 1)
    p_l_mean = p_l.astype(np.float32)
    p_l_mean[[3, 40, 41]] = np.nan
    hist_p_l = np.clip(p_l[None, :] + rng.normal(0, 0.25, (N_EPOCHS, N_FIRST)),
                       0, 1).astype(np.float32)
    hist_correct = (hist_p_l > 0.5).astype(np.uint8)
    hist_observed = np.ones((N_EPOCHS, N_FIRST), np.uint8)
    hist_observed[0, :10] = 0  # not seen in the first epoch
    hist_p_l[hist_observed == 0] = np.nan
    first = np.where(hist_correct.any(0), hist_correct.argmax(0) + 1, -1)
    return {
        "ids": ids,
        "labels": labels[ids].astype(np.int32),
        "cbtl": (hist_correct * hist_observed).sum(0).astype(np.int32),
        "p_l_mean": p_l_mean,
        "forgetting": rng.integers(0, 3, N_FIRST).astype(np.int32),
        "first_learned": first.astype(np.int32),
        "hist_observed": hist_observed,
        "hist_correct": hist_correct,
        "hist_p_l": hist_p_l,
    }


def write_csv(path, proxies):
    with open(path, "w", encoding="ascii") as stream:
        stream.write("id,label,cbtl,p_l_mean,rank_cbtl\n")
        for r in range(N_FIRST):
            p = proxies["p_l_mean"][r]
            cell = "" if np.isnan(p) else f"{p:.9g}"
            stream.write(f"{proxies['ids'][r]},{proxies['labels'][r]},"
                         f"{proxies['cbtl'][r]},{cell},{r}\n")


def make_noise(rng, truth, labels):
    """A label-noise run over all N_TRUTH examples in truth order."""
    flipped = np.zeros(N_TRUTH, np.uint8)
    flipped[rng.choice(N_TRUTH, 30, replace=False)] = 1
    noisy = labels.copy()
    noisy[flipped == 1] = (noisy[flipped == 1] + 1) % N_CLASSES
    score = rng.random(N_TRUTH) + 0.6 * (1 - flipped)
    return {
        "labels": noisy.astype(np.int32),
        "flipped": flipped,
        "p_l_mean": score.astype(np.float32),
        "cbtl": np.round(score * 3).astype(np.int32),
        "el2n": (2 - score).astype(np.float32),
    }


def write_idx_images(path, count):
    """A gzip IDX file of count 4 x 4 unsigned-byte images."""
    pixels = (np.arange(count * 16) % 256).astype(np.uint8)
    with gzip.open(path, "wb") as stream:
        stream.write(struct.pack(">HBBIII", 0, 0x08, 3, count, 4, 4))
        stream.write(pixels.tobytes())


def write_published_proxies(rng, directory, shared):
    folder = os.path.join(shared, "data", "published-cscores")
    for name in ("cifar10", "cifar100"):
        path = os.path.join(folder, f"{name}-cscores-orig-order.npz")
        if not os.path.exists(path):
            continue
        published = np.load(path)
        n = len(published["scores"])
        ids = rng.permutation(n).astype(np.int64)
        np.savez(os.path.join(directory, f"{name}-proxies.npz"), ids=ids,
                 labels=published["labels"][ids].astype(np.int32),
                 p_l_mean=(published["scores"][ids]
                           + rng.normal(0, 0.1, n)).astype(np.float32))


def generate(directory, shared=None):
    rng = np.random.default_rng(20260601)
    truth, labels = make_truth(rng)
    np.savez(os.path.join(directory, "truth.npz"), scores=truth,
             labels=labels)
    np.savez_compressed(os.path.join(directory, "truth-integral.npz"),
                        labels=labels, integral=truth)
    np.savez(os.path.join(directory, "truth-other.npz"), foo=truth,
             bar=labels)
    np.save(os.path.join(directory, "truth.npy"), truth)

    proxies = make_proxies(rng, truth, labels)
    np.savez(os.path.join(directory, "proxies.npz"), **proxies)
    write_csv(os.path.join(directory, "proxies.csv"), proxies)

    # Every example, in truth order, without ids; and the same with two
    # rows swapped, so the labels disagree from the first swapped row.
    full = {"labels": labels.astype(np.int32),
            "cbtl": rng.integers(0, 5, N_TRUTH).astype(np.int32)}
    np.savez(os.path.join(directory, "proxies-full.npz"), **full)
    swapped = {k: v.copy() for k, v in full.items()}
    row = int(np.nonzero(labels[1:] != labels[:-1])[0][10])
    swapped["labels"][[row, row + 1]] = swapped["labels"][[row + 1, row]]
    np.savez(os.path.join(directory, "proxies-swapped.npz"), **swapped)
    with open(os.path.join(directory, "swapped-row.txt"), "w") as stream:
        stream.write(f"{row}\n")
    np.savez(os.path.join(directory, "proxies-noids.npz"),
             **{k: v for k, v in proxies.items() if k != "ids"})

    np.savez(os.path.join(directory, "noise.npz"),
             **make_noise(rng, truth, labels))
    with open(os.path.join(directory, "ids.txt"), "w") as stream:
        for example in rng.choice(N_FIRST, 50, replace=False):
            stream.write(f"{example}\n")
    write_idx_images(os.path.join(directory, "images.idx.gz"), N_TRUTH)
    if shared:
        write_published_proxies(rng, directory, shared)


# ---------------------------------------------------------------------------
# References


def load(directory):
    truth = np.load(os.path.join(directory, "truth.npz"))
    proxies = np.load(os.path.join(directory, "proxies.npz"))
    return truth["scores"], truth["labels"], proxies


def as_float(name, values):
    values = values.astype(float)
    if name == "first_learned":
        values[values == -1] = np.inf
    return values


def correlations(x, y, keep=None):
    """Spearman and Kendall on pairs without NaN (and inside keep)."""
    use = ~np.isnan(x) & ~np.isnan(y)
    if keep is not None:
        use &= keep
    rho = scipy.stats.spearmanr(x[use], y[use])[0]
    tau = scipy.stats.kendalltau(x[use], y[use])[0]
    return rho, tau, int(use.sum())


def parse_table(path):
    """Rows of a correlate table: name -> (spearman, kendall, n)."""
    rows = {}
    with open(path, encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("proxy "))
    for line in lines[start + 1:]:
        fields = line.split()
        if len(fields) >= 4:
            rows[fields[0]] = (float(fields[1]), float(fields[2]),
                               int(fields[-1]))
    return rows


def check_correlate(directory, case, stdout_path):
    truth, labels, proxies = load(directory)
    aligned = truth[proxies["ids"]]
    keep = None
    names = ["cbtl", "p_l_mean", "forgetting", "first_learned"]
    if case == "class":
        keep = proxies["labels"] == 1
    elif case == "ids":
        listed = np.loadtxt(os.path.join(directory, "ids.txt"), dtype=int)
        keep = np.isin(proxies["ids"], listed)
    elif case == "csv":
        names = ["cbtl", "p_l_mean"]

    rows = parse_table(stdout_path)
    report(f"{case}: proxies listed", sorted(rows) == sorted(names),
           f"got {sorted(rows)}")
    for name in names:
        if name not in rows:
            continue
        rho, tau, n = correlations(as_float(name, proxies[name]), aligned,
                                   keep)
        got = rows[name]
        report(f"{case}: {name} spearman", abs(got[0] - rho) <= 6e-5,
               f"{got[0]} vs scipy {rho:.6f}")
        report(f"{case}: {name} kendall", abs(got[1] - tau) <= 6e-5,
               f"{got[1]} vs scipy {tau:.6f}")
        report(f"{case}: {name} n", got[2] == n, f"{got[2]} vs {n}")


def check_published(directory, shared, name, stdout_path):
    folder = os.path.join(shared, "data", "published-cscores")
    published = np.load(os.path.join(folder, f"{name}-cscores-orig-order.npz"))
    proxies = np.load(os.path.join(directory, f"{name}-proxies.npz"))
    rho, tau, n = correlations(proxies["p_l_mean"].astype(float),
                               published["scores"][proxies["ids"]])
    got = parse_table(stdout_path)["p_l_mean"]
    report(f"{name}: spearman", abs(got[0] - rho) <= 6e-5,
           f"{got[0]} vs {rho:.6f}")
    report(f"{name}: n", got[2] == n, f"{got[2]} vs {n}")


# ---------------------------------------------------------------------------
# Bench results


def read_results_csv(path):
    rows = {}
    with open(path, encoding="utf-8") as stream:
        header = stream.readline().strip().split(",")
        for line in stream:
            cells = dict(zip(header, line.rstrip("\n").split(",")))
            key = (cells["analysis"], cells["file"], cells["proxy"],
                   cells["epoch"], cells["statistic"])
            rows[key] = cells
    return rows


def close(cell, expected, tolerance=1e-8):
    if cell == "":
        return math.isnan(expected)
    return abs(float(cell) - expected) <= tolerance


def check_bench_correlations(rows, truth, proxies):
    aligned = truth[proxies["ids"]]
    for name in ("cbtl", "p_l_mean", "forgetting", "first_learned"):
        rho, tau, n = correlations(as_float(name, proxies[name]), aligned)
        cell = rows[("correlation", "run", name, "", "spearman")]
        report(f"bench: {name} spearman", close(cell["estimate"], rho),
               f"{cell['estimate']} vs {rho}")
        report(f"bench: {name} interval", float(cell["lower"])
               <= float(cell["upper"]), f"{cell['lower']}, {cell['upper']}")
        cell = rows[("correlation", "run", name, "", "kendall_tau_b")]
        report(f"bench: {name} kendall", close(cell["estimate"], tau),
               f"{cell['estimate']} vs {tau}")
        report(f"bench: {name} n", int(cell["n"]) == n, cell["n"])
    report("bench: csv file limited to its keys",
           ("correlation", "csv", "cbtl", "", "spearman") in rows
           and ("correlation", "csv", "p_l_mean", "", "spearman")
           not in rows)


def check_bench_epochs(rows, results, truth, proxies):
    aligned = truth[proxies["ids"]]
    observed = proxies["hist_observed"].astype(bool)
    correct = np.where(observed, proxies["hist_correct"], np.nan)
    p_l = proxies["hist_p_l"].astype(float)
    seen = np.cumsum(observed, 0)
    running = {
        "p_l": p_l,
        "correct": correct,
        "cbtl_running": np.where(seen > 0,
                                 np.cumsum(np.nan_to_num(correct), 0),
                                 np.nan),
        "p_l_mean_running": np.where(
            seen > 0, np.cumsum(np.nan_to_num(p_l), 0)
            / np.maximum(seen, 1), np.nan),
    }
    for name, values in running.items():
        for e in range(N_EPOCHS):
            rho, _, n = correlations(values[e], aligned)
            cell = rows[("per_epoch", "run", name, str(e + 1), "spearman")]
            report(f"bench: {name} epoch {e + 1}",
                   close(cell["estimate"], rho) and int(cell["n"]) == n,
                   f"{cell['estimate']} (n {cell['n']}) vs {rho} (n {n})")

    speed = results["learning_speed"]
    bins = np.minimum(np.floor(aligned * 10), 9)
    ok = True
    for e in range(N_EPOCHS):
        for b in range(10):
            members = (bins == b) & observed[e]
            expected = (proxies["hist_correct"][e][members].mean()
                        if members.any() else None)
            got = speed["accuracy"][e][b]
            if (got is None) != (expected is None) or (
                    got is not None and abs(got - expected) > 1e-9):
                ok = False
    counts = [int(((bins == b)).sum()) for b in range(10)]
    report("bench: learning speed", ok)
    report("bench: learning speed counts", speed["counts"] == counts,
           f"{speed['counts']} vs {counts}")


def direct_auroc(scores, positive):
    """Share of (positive, negative) pairs where the positive scores
    higher, ties counting one half."""
    pos, neg = scores[positive], scores[~positive]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (len(pos) * len(neg))


def check_bench_noise(rows, directory):
    noise = np.load(os.path.join(directory, "noise.npz"))
    flipped = noise["flipped"].astype(bool)
    for name, direction in (("p_l_mean", 1), ("cbtl", 1), ("el2n", -1)):
        oriented = -direction * noise[name].astype(float)
        expected = direct_auroc(oriented, flipped)
        cell = rows[("label_noise", "label_noise", name, "", "auroc")]
        report(f"bench: {name} auroc", close(cell["estimate"], expected),
               f"{cell['estimate']} vs {expected}")
    # p_l_mean has no ties, so the precision is that of the top k.
    oriented = -noise["p_l_mean"].astype(float)
    k = int(flipped.sum())
    top = np.argsort(-oriented, kind="stable")[:k]
    expected = flipped[top].mean()
    cell = rows[("label_noise", "label_noise", "p_l_mean", "",
                 "precision_at_flip_rate")]
    report("bench: precision at the flip rate",
           close(cell["estimate"], expected),
           f"{cell['estimate']} vs {expected}")


def check_bench_grid(results, truth, proxies):
    grid = results["image_grid"]
    aligned = truth[proxies["ids"]]
    for entry in grid["classes"]:
        members = (proxies["labels"] == entry["label"]) & ~np.isnan(aligned)
        order = sorted(zip(aligned[members], proxies["ids"][members]))
        lowest = [int(example) for _, example in order[:3]]
        report(f"bench: grid class {entry['label']} least regular",
               entry["least_regular"] == lowest,
               f"{entry['least_regular']} vs {lowest}")
        highest = order[-1][0]
        got = entry["most_regular_scores"][0]
        report(f"bench: grid class {entry['label']} most regular",
               abs(got - highest) <= 1e-9, f"{got} vs {highest}")


def check_histogram(results, truth):
    counts, _ = np.histogram(truth[~np.isnan(truth)], bins=20, range=(0, 1))
    report("bench: histogram", results["histogram"]["counts"]
           == counts.tolist(), f"{results['histogram']['counts']}")


def reject_constant(text):
    raise ValueError(f"results.json contains {text}, which is not JSON")


def check_bench(directory, folder):
    truth, _, proxies = load(directory)
    rows = read_results_csv(os.path.join(folder, "results.csv"))
    with open(os.path.join(folder, "results.json"), encoding="utf-8") as f:
        results = json.load(f, parse_constant=reject_constant)
    report("bench: results.json is strict JSON", True)
    name = results["image_grid"]["class_names"][2]
    report("bench: JSON strings escaped", name == 'two "quoted" \\ back',
           repr(name))
    check_bench_correlations(rows, truth, proxies)
    check_bench_epochs(rows, results, truth, proxies)
    check_bench_noise(rows, directory)
    check_bench_grid(results, truth, proxies)
    check_histogram(results, truth)


def main():
    command = sys.argv[1]
    if command == "generate":
        generate(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif command == "check-correlate":
        check_correlate(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "check-published":
        check_published(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif command == "check-bench":
        check_bench(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {command}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
