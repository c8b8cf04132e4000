"""Speed of the expected-value engine and of sweeps that use it, as figures with targets.

Run ``.venv/bin/python benchmarks/bench_expected.py`` (about a minute; ``--quick`` for a
reduced check of the script, ``--million`` to add the 1,000,000-run sweep, about half
an hour on two cores). Figures:

1. one sweep point of ``experiments/levers_sobol.yaml`` (100 bureaus x 60 months x 2
   case types = 12,000 bureau-type-periods) over the first points of its design, in
   this process: the aggregate engine (:func:`tipresearch.experiments.model_point`, one
   point at a time) against the expected-value engine (the points together,
   :func:`tipresearch.experiments.point.model_points`), in bureau-type-periods per
   second (target: the expected engine at least 20x);
2. the same for whole frames (:func:`tipresearch.model.simulate`, 10,000 bureaus x 120
   periods x 2 types), without a target;
3. the notebook's 10,240-run Sobol' sweep (the spec as it is: expected engine, common
   bureaus) through ``python -m tipresearch sweep`` on 2 worker processes: wall time
   of the command (target: under 5 s);
4. with ``--million``: the same sweep with 100,000 base samples (1,000,000 runs) on 2
   processes (``--executor dask``: figures 3 and 4 on a Dask LocalCluster of 2
   workers instead): wall time (target: under 5 minutes), peak memory of all processes
   against the 10,240-run sweep's (memory flat in the number of points: at most
   1.2x), and a resume: the command is interrupted after a third of its expected time
   and resumed, and the finished folder must hold every run exactly once.

The script is a report: it exits 0 whatever the figures. Each timing is the best of a
few repeats (``time.perf_counter``); the load average is printed, since other work on
a shared machine slows every figure down.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sweep import SPEC, Sampler, print_table, run_sweep_command, verdict  # noqa: E402

MB = 1024 * 1024


def point_rates(points: int, repeats: int) -> tuple[float, float, int]:
    """Milliseconds per point of the aggregate and expected engines on the spec's model."""
    import dataclasses

    from tipresearch.experiments import load_spec, model_point, point_seed
    from tipresearch.experiments.point import model_points

    spec = load_spec(SPEC)
    design = spec.design()
    values = [design.point(i) for i in range(points)]
    seeds = [point_seed(spec.seed, i, 0) for i in range(points)]
    agg = dataclasses.replace(spec.model, engine="aggregate")
    exp = dataclasses.replace(spec.model, engine="expected")
    rows = spec.model.base_params.n_bureaus * spec.model.periods * 2
    model_point(values[0], 0, agg)
    model_points(values[:2], seeds[:2], exp)

    def best(fn) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times) / points * 1000

    a = best(lambda: [model_point(v, s, agg) for v, s in zip(values, seeds, strict=True)])
    e = best(lambda: model_points(values, seeds, exp))
    return a, e, rows


def frame_rates(bureaus: int, periods: int) -> tuple[float, float]:
    """Seconds of one whole ``simulate`` call, aggregate and expected engines."""
    from tipresearch.model import ModelParams, simulate

    params = ModelParams().updated({"n_bureaus": bureaus})
    out = []
    for engine in ("aggregate", "expected"):
        simulate(params, "clearance_rate", 2, 0, engine)
        times = []
        for seed in range(3):
            t0 = time.perf_counter()
            simulate(params, "clearance_rate", periods, seed, engine)
            times.append(time.perf_counter() - t0)
        out.append(min(times))
    return out[0], out[1]


def write_spec(folder: Path, name: str, n: int) -> Path:
    """levers_sobol.yaml as it is, with ``n`` base samples."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["name"], spec["design"]["n"] = name, n
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def interrupted_then_resumed(
    spec: Path, out: Path, after: float, executor: str = "processes"
) -> dict[str, float]:
    """Start the sweep, interrupt it after ``after`` seconds, resume it; check the runs."""
    from tipresearch.experiments import open_sweep

    cmd = [sys.executable, "-m", "tipresearch", "sweep", str(spec), "--out", str(out)]
    cmd += ["--workers", "2", "--executor", executor, "--quiet"]
    t0 = time.perf_counter()
    # a shell starts background jobs with SIGINT ignored, and Python keeps it ignored:
    # give the sweep the default action back, so that the interrupt below reaches it
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    sampler = Sampler(proc.pid)
    sampler.start()
    try:
        proc.wait(timeout=after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        proc.wait()
    first = time.perf_counter() - t0
    done_before = int(open_sweep(out).done().sum())
    t1 = time.perf_counter()
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, check=False)
    second = time.perf_counter() - t1
    sampler.stop.set()
    sampler.join()
    sw = open_sweep(out)
    res = sw.results()
    once = not res.duplicated(["point", "replication"]).any()
    return {
        "wall": first + second,
        "done_before": done_before,
        "points": sw.points,
        "complete": float(sw.complete and once and len(res) == sw.points),
        "returncode": resumed.returncode,
        "peak_total_mb": sampler.peak_total / MB,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small workloads, to check the script")
    ap.add_argument("--million", action="store_true", help="add the 1,000,000-run sweep")
    ap.add_argument("--keep", default=None, metavar="DIR", help="keep the sweeps in DIR")
    ap.add_argument(
        "--executor",
        choices=("processes", "dask"),
        default="processes",
        help="how the sweeps (figures 3 and 4) run: 2 worker processes (default) or a "
        "Dask LocalCluster of 2 workers",
    )
    args = ap.parse_args(argv)
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-expected-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"# Expected-value engine benchmark; CPUs {os.cpu_count()}; load {os.getloadavg()}")
    rows: list[tuple[str, str, str, str]] = []

    a_ms, e_ms, cells = point_rates(20 if args.quick else 200, 1 if args.quick else 3)
    ratio = a_ms / e_ms
    rows.append(("sweep point, aggregate engine (ms per point)", f"{a_ms:.2f}", "", ""))
    rows.append(("sweep point, expected engine, batched (ms per point)", f"{e_ms:.2f}", "", ""))
    rows.append(
        (
            f"  bureau-type-periods/s: aggregate {cells / a_ms * 1000:,.0f}, "
            f"expected {cells / e_ms * 1000:,.0f}; ratio",
            f"{ratio:.1f}x",
            ">= 20x",
            verdict(ratio >= 20),
        )
    )
    b, t = (1_000, 24) if args.quick else (10_000, 120)
    fa, fe = frame_rates(b, t)
    rows.append(
        (
            f"simulate() frame {b:,} x {t} x 2: aggregate / expected (s); ratio {fa / fe:.1f}x",
            f"{fa:.2f} / {fe:.2f}",
            "",
            "",
        )
    )

    n = 32 if args.quick else 1024
    spec = write_spec(tmp, "sobol", n)
    where = "2 processes" if args.executor == "processes" else "Dask LocalCluster, 2 workers"
    res = run_sweep_command(spec, tmp / "sobol", 2, args.executor)
    rows.append(
        (
            f"{n * 10:,}-run Sobol' sweep, expected engine, {where}: command (s)",
            f"{res['wall']:.1f}",
            "" if args.quick else "< 5",  # the target is for the notebook's 10,240 runs
            "" if args.quick else verdict(res["wall"] < 5),
        )
    )
    rows.append(
        (f"  of which the sweep itself (s): {res['summary'][:60]}", f"{res['sweep']:.1f}", "", "")
    )
    if args.million:
        big = write_spec(tmp, "million", 100_000)
        est = res["sweep"] * 100_000 / n
        out = interrupted_then_resumed(big, tmp / "million", est / 3, args.executor)
        rows.append(
            (
                f"1,000,000-run Sobol' sweep, {where}, interrupted once (s)",
                f"{out['wall']:.0f}",
                "< 300",
                verdict(out["wall"] < 300),
            )
        )
        interrupted = out["done_before"] < out["points"]
        rows.append(
            (
                f"  resumed after {out['done_before']:,} of {out['points']:,} points: "
                "every run once"
                if interrupted
                else "  NOT INTERRUPTED: the sweep ignored the interrupt; no resume tested",
                "yes" if out["complete"] and interrupted else "NO",
                "yes",
                verdict(bool(out["complete"]) and interrupted),
            )
        )
        growth = out["peak_total_mb"] / res["peak_total_mb"]
        rows.append(
            (
                f"  peak memory, all processes: {out['peak_total_mb']:.0f} MB against "
                f"{res['peak_total_mb']:.0f} MB for {n * 10:,} runs",
                f"{growth:.2f}x",
                "<= 1.2x",
                verdict(growth <= 1.2),
            )
        )
    print(f"load after {os.getloadavg()}\n")
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
