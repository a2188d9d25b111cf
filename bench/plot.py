#!/usr/bin/python3
"""Draw the figures of a `cscore bench` run from its results.json.

Usage: /usr/bin/python3 bench/plot.py RESULTS_JSON [--out DIR]

Writes, as PNG and SVG into DIR (default: the folder of RESULTS_JSON):

- correlations: Spearman's rho of each proxy against the C-score, with
  its bootstrap interval;
- rho_by_epoch: Spearman's rho against the C-score of each proxy as it
  stood at each epoch;
- learning_speed: mean training accuracy per epoch of the examples in
  each C-score bin of width 0.1;
- cscore_histogram: how the ground-truth C-scores are distributed;
- label_noise: AUROC of each proxy for finding flipped labels, when the
  bench had a label-noise run;
- image_grid: per class, the least and the most regular training images
  under the chosen score, read from the IDX file named in results.json.

Needs numpy and matplotlib (Debian: python3-numpy, python3-matplotlib).
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Legend text of the per-epoch series that `cscore bench` computes.
SERIES_LABELS = {
    "p_l": "p_L at the epoch",
    "p_max": "p_max at the epoch",
    "correct": "correct at the epoch (0 or 1)",
    "cbtl_running": "CBTL up to the epoch",
    "p_l_mean_running": "mean p_L up to the epoch",
}

# Legend text of scores saved at chosen epochs (kde_pm_e5 and so on).
EPOCH_SCORE_LABELS = {
    "kde_pm": "KDE +-L of the last hidden layer",
    "kde_l": "KDE L of the last hidden layer",
    "kde_free": "class-free KDE of the last hidden layer",
}


def save(figure, out_dir, name):
    """Write figure as NAME.png and NAME.svg and close it."""
    for extension in ("png", "svg"):
        path = os.path.join(out_dir, f"{name}.{extension}")
        figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(figure)
    print(f"wrote {os.path.join(out_dir, name)}.png and .svg")


def value(number):
    """JSON null (NaN in cscore) as float NaN."""
    return math.nan if number is None else float(number)


def truth_label(results):
    truth = results["truth"]
    key = f" ({truth['key']})" if truth.get("key") else ""
    return f"C-score{key}"


def plot_correlations(results, out_dir):
    rows = results["correlations"]
    if not rows:
        return
    files = {row["file"] for row in rows}
    names = [row["proxy"] if len(files) == 1
             else f"{row['proxy']} ({row['file']})" for row in rows]
    rho = np.array([value(row["spearman"]["estimate"]) for row in rows])
    lower = np.array([value(row["spearman"]["lower"]) for row in rows])
    upper = np.array([value(row["spearman"]["upper"]) for row in rows])

    figure, axes = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.5))
    positions = np.arange(len(rows))[::-1]
    colors = ["tab:blue" if r >= 0 else "tab:red" for r in rho]
    axes.barh(positions, rho, color=colors, alpha=0.8)
    if not np.all(np.isnan(lower)):
        axes.errorbar(rho, positions, xerr=[rho - lower, upper - rho],
                      fmt="none", ecolor="black", capsize=2, linewidth=1)
    axes.set_yticks(positions, names)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlim(-1, 1)
    axes.set_xlabel(f"Spearman's rho with the {truth_label(results)}")
    confidence = results["bootstrap"]["confidence"]
    axes.set_title("Proxies against the C-score (blue: positive rho, red: "
                   f"negative; bars: {100 * confidence:g}% bootstrap "
                   "interval)", fontsize=9)
    axes.grid(axis="x", alpha=0.3)
    save(figure, out_dir, "correlations")


def plot_rho_by_epoch(results, out_dir):
    per_epoch = results.get("per_epoch")
    if not per_epoch:
        return
    figure, axes = plt.subplots(figsize=(8.5, 4.5))
    for series in per_epoch["series"]:
        epochs = series["epochs"]
        rho = [value(r) for r in series["spearman"]]
        # Series of the history arrays are solid; scores saved at chosen
        # epochs only (such as kde_pm_e5) are dashed.
        known = series["proxy"] in SERIES_LABELS
        label = SERIES_LABELS.get(
            series["proxy"],
            EPOCH_SCORE_LABELS.get(series["proxy"], series["proxy"])
            + " at the epoch")
        style = "-" if known else "--"
        if len(epochs) <= 30:
            style += "o"  # markers only while they stay apart
        axes.plot(epochs, rho, style, label=label, markersize=3)
    axes.set_xlabel("training epoch")
    axes.set_ylabel(f"Spearman's rho with the {truth_label(results)}")
    axes.set_title(f"Per-epoch proxies of '{per_epoch['file']}' against "
                   "the C-score")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.xaxis.get_major_locator().set_params(integer=True)
    save(figure, out_dir, "rho_by_epoch")


def plot_learning_speed(results, out_dir):
    speed = results.get("learning_speed")
    if not speed or "accuracy" not in speed:
        return
    accuracy = np.array([[value(a) for a in row]
                         for row in speed["accuracy"]])
    epochs = np.arange(1, accuracy.shape[0] + 1)
    edges = speed["bin_edges"]
    # Stop short of viridis's pale yellow, which is faint on white.
    colors = plt.cm.viridis(np.linspace(0, 0.85, accuracy.shape[1]))

    figure, axes = plt.subplots(figsize=(8.5, 4.5))
    for b in range(accuracy.shape[1]):
        if speed["counts"][b] == 0:
            continue
        closing = "]" if b == accuracy.shape[1] - 1 else ")"
        label = (f"[{edges[b]:.1f}, {edges[b + 1]:.1f}{closing}  "
                 f"n={speed['counts'][b]}")
        axes.plot(epochs, accuracy[:, b], "-o", color=colors[b],
                  label=label, markersize=3)
    axes.set_xlabel("training epoch")
    axes.set_ylabel("mean training accuracy of the bin")
    axes.set_ylim(0, 1.02)
    axes.set_title(f"Learning speed by C-score bin ('{speed['file']}')")
    axes.grid(alpha=0.3)
    axes.legend(title="C-score bin", fontsize=7, title_fontsize=8,
                loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.xaxis.get_major_locator().set_params(integer=True)
    save(figure, out_dir, "learning_speed")


def plot_histogram(results, out_dir):
    histogram = results["histogram"]
    if histogram["n"] == 0:
        return
    edges = np.array(histogram["bin_edges"])
    counts = np.array(histogram["counts"])
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.bar(edges[:-1], counts, width=np.diff(edges), align="edge",
             color="tab:blue", edgecolor="white")
    axes.set_xlabel(truth_label(results))
    axes.set_ylabel("examples per bin")
    width = edges[1] - edges[0]
    axes.set_title(f"Distribution of the C-score ({histogram['n']} "
                   f"examples, bins of width {width:g})")
    axes.grid(axis="y", alpha=0.3)
    save(figure, out_dir, "cscore_histogram")


def plot_label_noise(results, out_dir):
    noise = results.get("label_noise")
    if not noise or not noise["proxies"]:
        return
    rows = noise["proxies"]
    names = [row["proxy"] for row in rows]
    auroc = np.array([value(row["auroc"]["estimate"]) for row in rows])
    lower = np.array([value(row["auroc"]["lower"]) for row in rows])
    upper = np.array([value(row["auroc"]["upper"]) for row in rows])
    precision = np.array([value(row["precision_at_flip_rate"])
                          for row in rows])

    figure, (left, right) = plt.subplots(
        1, 2, sharey=True, figsize=(9, 0.35 * len(rows) + 1.5))
    positions = np.arange(len(rows))[::-1]
    left.barh(positions, auroc, color="tab:green", alpha=0.8)
    if not np.all(np.isnan(lower)):
        left.errorbar(auroc, positions, xerr=[auroc - lower, upper - auroc],
                      fmt="none", ecolor="black", capsize=2, linewidth=1)
    left.axvline(0.5, color="black", linestyle="--", linewidth=0.8)
    left.set_xlim(0, 1)
    left.set_yticks(positions, names)
    left.set_xlabel("AUROC for flipped labels\n(dashed: chance)")
    right.barh(positions, precision, color="tab:purple", alpha=0.8)
    right.axvline(noise["flip_rate"], color="black", linestyle="--",
                  linewidth=0.8)
    right.set_xlim(0, 1)
    right.set_xlabel("precision among the least regular "
                     f"{100 * noise['flip_rate']:.1f}%\n(dashed: chance)")
    for axes in (left, right):
        axes.grid(axis="x", alpha=0.3)
    figure.suptitle(f"Finding the {noise['n_flipped']} flipped labels of "
                    f"'{noise['file']}' ({noise['n']} examples)")
    save(figure, out_dir, "label_noise")


def read_idx_images(path):
    """Read an IDX image file (gzip or plain) as a uint8 array N x H x W."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        data = stream.read()
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08 or ndim != 3:
        raise ValueError(f"{path} is not an IDX file of unsigned-byte "
                         "images (expected type 0x08 and 3 dimensions)")
    shape = struct.unpack(">III", data[4:16])
    count = shape[0] * shape[1] * shape[2]
    if len(data) - 16 < count:
        raise ValueError(f"{path} is truncated: {len(data) - 16} bytes of "
                         f"pixels for {shape}")
    return np.frombuffer(data, np.uint8, count, 16).reshape(shape)


def plot_image_grid(results, out_dir):
    grid = results.get("image_grid")
    if not grid or not grid["classes"]:
        return
    images = read_idx_images(grid["images"])
    classes = grid["classes"]
    names = grid.get("class_names") or []
    per_row = max(len(c["least_regular"]) for c in classes)
    columns = 2 * per_row + 1  # one empty column between the two ends

    figure, axes = plt.subplots(len(classes), columns,
                                figsize=(0.75 * columns + 1.2,
                                         0.9 * len(classes) + 0.8),
                                squeeze=False)
    for row, entry in enumerate(classes):
        ends = [(entry["least_regular"], entry["least_regular_scores"], 0),
                (entry["most_regular"], entry["most_regular_scores"],
                 per_row + 1)]
        for ids, scores, start in ends:
            for k, (example, score) in enumerate(zip(ids, scores)):
                cell = axes[row][start + k]
                if example >= len(images):
                    raise ValueError(f"example {example} is not in "
                                     f"{grid['images']} ({len(images)} "
                                     "images)")
                cell.imshow(images[example], cmap="gray_r",
                            vmin=0, vmax=255)
                cell.set_title(f"{value(score):.2f}", fontsize=6, pad=2)
        for cell in axes[row]:
            cell.set_xticks([])
            cell.set_yticks([])
            for spine in cell.spines.values():
                spine.set_visible(False)
        label = entry["label"]
        name = names[label] if 0 <= label < len(names) else f"class {label}"
        axes[row][0].set_ylabel(name, rotation=0, ha="right", va="center",
                                fontsize=8)

    score = grid["score"]
    score_name = truth_label(results) if score == "truth" else score
    axes[0][0].annotate(f"least regular by {score_name} (lowest first)",
                        xy=(0, 1.6), xycoords="axes fraction", fontsize=9)
    axes[0][per_row + 1].annotate(
        f"most regular by {score_name} (highest first)", xy=(0, 1.6),
        xycoords="axes fraction", fontsize=9)
    figure.suptitle("Training images per class; the number above each "
                    f"image is its {score_name}", y=0.99)
    figure.subplots_adjust(wspace=0.05, hspace=0.45)
    save(figure, out_dir, "image_grid")


def main():
    parser = argparse.ArgumentParser(
        description="Draw the figures of a `cscore bench` run.")
    parser.add_argument("results", help="results.json of `cscore bench`")
    parser.add_argument("--out", help="output folder (default: the folder "
                        "of RESULTS)")
    args = parser.parse_args()

    with open(args.results, encoding="utf-8") as stream:
        results = json.load(stream)
    out_dir = args.out or os.path.dirname(os.path.abspath(args.results))
    os.makedirs(out_dir, exist_ok=True)

    plot_correlations(results, out_dir)
    plot_rho_by_epoch(results, out_dir)
    plot_learning_speed(results, out_dir)
    plot_histogram(results, out_dir)
    plot_label_noise(results, out_dir)
    plot_image_grid(results, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
