#!/usr/bin/env python3
"""Plots how the benchmark figures scale with size, from several `commonplace-bench --json`
runs at different sizes.

    python3 bench/plot.py docs/benchmarks-scaling.svg run-*.json
    python3 bench/plot.py --markdown run.json      # one run's table, for docs/benchmarks.md

Needs matplotlib (`pip install matplotlib`). W1 figures are plotted against posts written on
each side, W3-W5 figures against posts in the big community.
"""
import json
import sys

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(paths):
    runs = []
    for p in paths:
        with open(p) as f:
            runs.append(json.load(f))
    return runs


def series(runs, size_key, scenario, figure, reference=None, use_reference=False):
    """(size, value) points of one figure (or of its reference) across runs."""
    pts = {}
    for run in runs:
        for r in run["rows"]:
            if not r["scenario"].startswith(scenario) or r["figure"].strip() != figure:
                continue
            if reference is not None and r["reference"] != reference:
                continue
            v = r["reference_value"] if use_reference else r["value"]
            if v is not None:
                pts[run["sizes"][size_key]] = v
    return sorted(pts.items())


SIGS = "batch verification of every change's signature alone"
W5_P99 = "command to committed + event, p99 (ms)"

PANELS = [
    # title, size key, x label, y label, log y, [(label, scenario, figure, reference, use ref)]
    ("W1 time to converge", "posts", "posts written offline on each side", "s", True, [
        ("Commonplace", "W1", "time to converge (s)", "limit", False),
        ("limit (Automerge sync in memory)", "W1", "time to converge (s)", "limit", True),
        ("automerge-repo", "W1", "time to converge (s)", "automerge-repo", True),
    ]),
    ("W1 bytes on the wire", "posts", "posts written offline on each side", "bytes", True, [
        ("Commonplace", "W1", "bytes on the wire", "limit", False),
        ("limit", "W1", "bytes on the wire", "limit", True),
        ("automerge-repo", "W1", "bytes on the wire", "automerge-repo", True),
    ]),
    ("W3 cold open", "big_posts", "posts in the community", "s", True, [
        ("start to first thread list", "W3", "process start to first thread list (s)", None, False),
        ("Automerge::load of every document", "W3", "process start to first thread list (s)", None, True),
    ]),
    ("W3 peak RSS", "big_posts", "posts in the community", "MB", False, [
        ("cold open", "W3", "peak RSS (MB)", None, False),
        ("Automerge::load of every document", "W3", "peak RSS (MB)", None, True),
    ]),
    ("W4 signed ingest", "big_posts", "changes in the bundle (≈ posts)", "changes/s", True, [
        ("import (verify + apply + commit)", "W4", "changes verified+applied+committed per s",
         SIGS, False),
        ("batch verification of every change's signature alone", "W4",
         "changes verified+applied+committed per s", SIGS, True),
        ("automerge apply_changes alone", "W4", "changes verified+applied+committed per s",
         "automerge apply_changes alone", True),
        ("import, per second on a CPU", "W4", "the same per second on a CPU", SIGS, False),
        ("verification alone, per second on a CPU", "W4", "the same per second on a CPU",
         SIGS, True),
    ]),
    ("W5 local write, p99", "big_posts", "posts in the community", "ms", False, [
        ("post to a thread not read since the start", "W5 local write to", W5_P99, None, False),
        ("post from the thread view", "W5 local write from", W5_P99, None, False),
        ("bare durable redb commit", "W5 local write to", W5_P99, None, True),
    ]),
]


def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}"


def markdown(run):
    print("| scenario | figure | value | reference | reference value | ratio | target |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    last = None
    for r in run["rows"]:
        scenario = "" if r["scenario"] == last else r["scenario"]
        last = r["scenario"]
        ref = r["reference"] or "–"
        if r.get("note"):
            ref = f"{ref} ({r['note']})"
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else "–"
        print(f"| {scenario} | {r['figure'].strip()} | {fmt(r['value'])} | {ref} | "
              f"{fmt(r['reference_value'])} | {ratio} | {r.get('target') or ''} |")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--markdown":
        return markdown(load(sys.argv[2:])[0])
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, runs = sys.argv[1], load(sys.argv[2:])
    fig, axes = plt.subplots(3, 2, figsize=(11, 12))
    for ax, (title, key, xl, yl, logy, lines) in zip(axes.flat, PANELS):
        for label, scenario, figure, reference, use_ref in lines:
            pts = series(runs, key, scenario, figure, reference, use_ref)
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, marker="o", label=label)
        ax.set_title(title)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        if logy:
            ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main()
