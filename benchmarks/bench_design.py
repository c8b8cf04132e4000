"""Time and memory to start a sweep over a large grid: made lazily against made whole.

Run ``.venv/bin/python benchmarks/bench_design.py`` (about a minute; ``--points`` to
choose the grid's size, ``--quick`` for a small one). Each measurement runs in a fresh
process and reports its wall time and its peak resident memory (the kernel's
high-water mark, ``ru_maxrss``):

The same for a Sobol' design of a million points (8 parameters): made lazily
(:class:`tipresearch.experiments.design.SaltelliDesign`, its first 1,024 points
written) against SALib's sampler with every point made and written; and the lazy start
for a tenth of the points (target: the memory above the interpreter's flat, at most
1.2x for ten times the points).

1. *lazy*: what a sweep does before its first task today: draw the grid
   (:class:`tipresearch.experiments.design.GridDesign`: only its axes), write
   ``design.parquet`` (the axes), make the mask of points to do and cut the first task
   (:func:`tipresearch.experiments.executors._tasks`);
2. *whole*: the same with every point made first (the grid's ``values`` and ``unit``
   and a ``design.parquet`` of every point), which is what a sweep did before grids
   were made lazily.

Target: the lazy start at least 10x faster and at most a tenth of the whole start's
peak memory above the interpreter's own. The script is a report: it exits 0 whatever
the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np
from tipresearch.experiments import ParameterSpace, SweepSpec
from tipresearch.experiments.design import Design, sample
from tipresearch.experiments.executors import _tasks
from tipresearch.experiments.point import model_point
from tipresearch.experiments.store import _write_design

mode, sizes, folder = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode.startswith("sobol"):  # sizes: [parameters, base samples]
    space = ParameterSpace.from_dict({f"p{j}": {"bounds": [0, 1]} for j in range(sizes[0])})
    spec = SweepSpec(space, method="sobol", n=sizes[1])
else:
    space = ParameterSpace.from_dict(
        {f"p{j}": {"bounds": [0, 1], "levels": k} for j, k in enumerate(sizes)}
    )
    spec = SweepSpec(space, method="grid", levels=2)
t0 = time.perf_counter()
if mode == "sobol-whole":  # SALib's sampler, every point made and written
    import warnings
    from SALib.sample import sobol
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unit = np.clip(sobol.sample(space.problem(), sizes[1], calc_second_order=False), 0, 1)
    design = Design(space, "sobol", unit, space.from_unit(unit), {})
elif mode == "sobol-lazy":
    design = sample(space, "sobol", sizes[1])
else:
    design = sample(space, "grid", levels=2)
if mode == "whole":
    design = Design(space, "grid", design.unit, design.values, design.options)
_write_design(folder / "design.parquet", design)
todo = np.ones(len(design), dtype=bool)
first = next(_tasks(design, todo, 100, spec, model_point, spec.model)).point_values()
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "base_mb": base / 1024,
                  "points": len(design), "first": len(first),
                  "file_mb": (folder / "design.parquet").stat().st_size / 2**20}))
"""


def measure(mode: str, sizes: list[int]) -> dict[str, float]:
    """One start of a sweep over the grid, in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, mode, json.dumps(sizes), folder],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=float, default=2e7, help="grid points (about)")
    ap.add_argument("--quick", action="store_true", help="a grid of about 10^6 points")
    args = ap.parse_args(argv)
    points = 1e6 if args.quick else args.points
    side = max(2, round(points ** (1 / 3)))
    sizes = [side, side, max(2, round(points / side**2))]
    print(f"grid of {math.prod(sizes):,} points ({' x '.join(map(str, sizes))} levels)")
    rows = {mode: measure(mode, sizes) for mode in ("lazy", "whole")}
    sobol = [8, (10**5 if args.quick else 10**6) // 10]
    print(f"Sobol' design of {sobol[1] * 10:,} points (8 parameters, {sobol[1]:,} base samples)")
    rows.update({mode: measure(mode, sobol) for mode in ("sobol-lazy", "sobol-whole")})
    rows["sobol-lazy/10"] = measure("sobol-lazy", [8, sobol[1] // 10])
    print(f"{'start':14s} {'seconds':>9s} {'peak MB':>9s} {'above base':>11s} {'file MB':>9s}")
    for mode, r in rows.items():
        above = r["peak_mb"] - r["base_mb"]
        print(
            f"{mode:14s} {r['seconds']:9.3f} {r['peak_mb']:9.0f} {above:11.0f} {r['file_mb']:9.2f}"
        )
    lazy, whole = rows["lazy"], rows["whole"]
    speed = whole["seconds"] / lazy["seconds"]
    mem = (lazy["peak_mb"] - lazy["base_mb"]) / max(whole["peak_mb"] - whole["base_mb"], 1e-9)
    print(
        f"grid: speed-up of the lazy start {speed:.0f}x (target >= 10x): "
        f"{'PASS' if speed >= 10 else 'MISS'}"
    )
    print(
        f"grid: memory above base, lazy / whole {mem:.3f} (target <= 0.1): "
        f"{'PASS' if mem <= 0.1 else 'MISS'}"
    )
    big, small, whole = rows["sobol-lazy"], rows["sobol-lazy/10"], rows["sobol-whole"]
    flat = (big["peak_mb"] - big["base_mb"]) / max(small["peak_mb"] - small["base_mb"], 1e-9)
    print(
        f"Sobol': lazy start's memory above base, {big['points']:,} / {small['points']:,} "
        f"points {flat:.2f}x (target <= 1.2x, flat): {'PASS' if flat <= 1.2 else 'MISS'}"
    )
    print(f"Sobol': speed-up of the lazy start {whole['seconds'] / big['seconds']:.1f}x")
    return 0


if __name__ == "__main__":
    t = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - t:.0f} s in all)")
    sys.exit(code)
