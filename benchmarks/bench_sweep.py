"""Speed, scaling and memory of parameter sweeps, as a table of figures with targets.

Run ``.venv/bin/python benchmarks/bench_sweep.py`` (several minutes; ``--quick`` for a
reduced check of the script). Every sweep runs through the command line,
``python -m tipresearch sweep SPEC --out DIR``, in a fresh process, with the spec
``experiments/levers_sobol.yaml`` (eight levers; the aggregate model with 100 bureaus,
60 monthly periods and two case types) or a copy with a different design size.

Figures:

1. model cost: one model run per point, in this process, over the first points of
   the design (ms per point; context for the rest, no target);
2. a 10,240-point Sobol' sweep (1,024 base samples x 10) on 2 worker processes:
   wall time of the whole command (target <= 60 s), the sweep's own time as the
   command reports it, and the share of the workers' wall time spent inside model runs
   (the sum of the runs' own times over workers x sweep time: what is left is the
   runner's overhead and idle workers, whatever else the machine is doing);
3. the same sweep on 1 worker process: the speed-up from 1 to 2 workers
   (target >= 1.7x);
4. the same sweep on a Dask LocalCluster of 2 workers (no target);
5. memory: peak resident memory of the command and its workers together (sampled
   every 0.1 s), and of the main process alone, for 10,000 and 100,000 points
   (target: the 100,000-point peak at most 1.2x the 10,000-point peak). By default
   this uses a light model (10 bureaus, 12 periods) so that 100,000 points take a few
   minutes; the runner's memory does not depend on the model's size.

The script is a report: it exits 0 whatever the figures. On a shared machine other
work slows the figures down: the load average is printed before each sweep, and
``--wait-idle 0.5`` waits for a quiet moment before each one.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "levers_sobol.yaml"
MB = 1024 * 1024


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
        return done.stdout.strip()
    except OSError:
        return "?"


def write_spec(folder: Path, name: str, n: int, **model: Any) -> Path:
    """A copy of levers_sobol.yaml with ``n`` base samples and model changes.

    The aggregate engine with a seed per run unless ``model`` says otherwise: the
    workload these figures have measured from the start (the spec itself now uses the
    expected-value engine, which ``bench_expected.py`` measures).
    """
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["name"] = name
    spec["design"]["n"] = n
    spec["model"]["engine"] = "aggregate"
    spec["common_seeds"] = False
    for key, value in model.items():
        if key == "params":
            spec["model"]["params"].update(value)
        else:
            spec["model"][key] = value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


class Sampler(threading.Thread):
    """Peak resident memory of a process and its children, sampled every 0.1 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak_total = 0
        self.peak_main = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                main = self.proc.memory_info().rss
                total = main
                for child in self.proc.children(recursive=True):
                    try:
                        total += child.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak_main = max(self.peak_main, main)
            self.peak_total = max(self.peak_total, total)
            self.stop.wait(0.1)


IDLE: dict[str, float] = {"load": 0.0, "wait": 0.0}


def wait_for_idle() -> None:
    """With ``--wait-idle``: wait until the 1-minute load average is below a threshold."""
    if not IDLE["load"]:
        return
    deadline = time.monotonic() + IDLE["wait"]
    while os.getloadavg()[0] >= IDLE["load"] and time.monotonic() < deadline:
        time.sleep(5)
    print(f"  (load average at start: {os.getloadavg()[0]:.2f})", flush=True)


def run_sweep_command(spec: Path, out: Path, workers: int, executor: str) -> dict[str, Any]:
    """Run ``tipresearch sweep`` in a fresh process; time it and sample its memory."""
    shutil.rmtree(out, ignore_errors=True)
    wait_for_idle()
    cmd = [
        sys.executable,
        "-m",
        "tipresearch",
        "sweep",
        str(spec),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--executor",
        executor,
        "--quiet",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"sweep failed ({proc.returncode}): {stderr.strip()[-2000:]}")
    line = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    m = re.search(r"(\d+) failed run\(s\); ([\d.]+) s on", line)
    return {
        "wall": wall,
        "sweep": float(m.group(2)) if m else float("nan"),
        "failed": int(m.group(1)) if m else -1,
        "peak_total_mb": sampler.peak_total / MB,
        "peak_main_mb": sampler.peak_main / MB,
        "summary": line,
    }


def model_cost(spec: Path, points: int) -> float:
    """Milliseconds per model run, serially in this process, over the first points."""
    from tipresearch.experiments import load_spec, model_point, point_seed

    s = load_spec(spec)
    design = s.design()
    values = design.values.iloc[:points].to_dict("records")
    model_point(values[0], 0, s.model)  # warm up imports and caches
    start = time.perf_counter()
    for i, v in enumerate(values):
        try:
            model_point(v, point_seed(s.seed, i, 0), s.model)
        except Exception:  # a failing point costs what it cost
            pass
    return (time.perf_counter() - start) / len(values) * 1000


def run_seconds(out: Path) -> float:
    """Sum of the runs' own wall times in a finished sweep (the ``seconds`` column)."""
    from tipresearch.experiments import open_sweep

    return float(open_sweep(out).results()["seconds"].sum())


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    """Print figures as a table: name, value, target and PASS or MISS."""
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'value':>12}  {'target':>8}  result")
    for name, value, target, result in rows:
        print(f"{name:<{width}}  {value:>12}  {target:>8}  {result}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sweeps, to check the script")
    ap.add_argument("--workers", type=int, default=2, help="workers of the parallel runs (2)")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask figure")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory figure")
    ap.add_argument(
        "--memory-model",
        choices=("light", "full"),
        default="light",
        help="model of the memory sweeps: light (10 bureaus, 12 periods) or full (100 x 60)",
    )
    ap.add_argument("--keep", default=None, metavar="DIR", help="keep the sweeps in DIR")
    ap.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="LOAD",
        help="before each sweep, wait (up to 20 min) until the 1-minute load average is "
        "below LOAD (on a shared machine)",
    )
    args = ap.parse_args(argv)
    IDLE.update(load=args.wait_idle, wait=1200.0)

    n_speed = 32 if args.quick else 1024
    mem_points = (2_000, 20_000) if args.quick else (10_000, 100_000)
    workers = args.workers
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    tmp.mkdir(parents=True, exist_ok=True)

    print("# Sweep benchmark")
    print(f"commit {_git('rev-parse', '--short', 'HEAD')}; python {platform.python_version()}")
    print(f"CPUs {os.cpu_count()}; load average before {os.getloadavg()}")
    dirty = _git("status", "--porcelain", "--", "tipresearch")
    if dirty:
        print(f"uncommitted changes to the package:\n{dirty}")
    rows: list[tuple[str, str, str, str]] = []

    speed_spec = write_spec(tmp, "speed", n_speed)
    d = len(yaml.safe_load(SPEC.read_text(encoding="utf-8"))["parameters"])
    n_points = n_speed * (d + 2)

    ms = model_cost(speed_spec, 40 if args.quick else 300)
    rows.append(("model run, serial (ms per point)", f"{ms:.2f}", "", ""))
    print(f"model cost: {ms:.2f} ms per point", flush=True)

    two = run_sweep_command(speed_spec, tmp / "speed_2", workers, "processes")
    print(f"{workers} processes: {two['summary']}", flush=True)
    rows.append(
        (
            f"{n_points:,}-point Sobol sweep, {workers} processes: command (s)",
            f"{two['wall']:.1f}",
            "<= 60",
            verdict(two["wall"] <= 60),
        )
    )
    rows.append(
        (
            f"  of which the sweep itself (s); {two['failed']} failed runs",
            f"{two['sweep']:.1f}",
            "",
            "",
        )
    )
    one = run_sweep_command(speed_spec, tmp / "speed_1", 1, "processes")
    print(f"1 process: {one['summary']}", flush=True)
    rows.append(
        (f"{n_points:,}-point Sobol sweep, 1 process: command (s)", f"{one['wall']:.1f}", "", "")
    )
    busy = run_seconds(tmp / "speed_2")
    rows.append(
        (
            f"  model time inside tasks / ({workers} x sweep time), {workers} processes",
            f"{busy / (workers * two['sweep']):.2f}",
            "",
            "",
        )
    )
    ratio = one["wall"] / two["wall"]
    ratio_sweep = one["sweep"] / two["sweep"]
    rows.append(
        (
            f"speed-up 1 -> {workers} workers (command)",
            f"{ratio:.2f}x",
            ">= 1.7x",
            verdict(ratio >= 1.7),
        )
    )
    rows.append((f"speed-up 1 -> {workers} workers (sweep itself)", f"{ratio_sweep:.2f}x", "", ""))
    serial_s = ms * n_points / 1000
    rows.append(
        (
            f"  runner efficiency, {workers} workers: serial model time / ({workers} x sweep)",
            f"{serial_s / (workers * two['sweep']):.2f}",
            "",
            "",
        )
    )

    if not args.no_dask:
        dk = run_sweep_command(speed_spec, tmp / "speed_dask", workers, "dask")
        print(f"dask: {dk['summary']}", flush=True)
        rows.append(
            (
                f"{n_points:,}-point Sobol sweep, Dask LocalCluster {workers}: command (s)",
                f"{dk['wall']:.1f}",
                "",
                "",
            )
        )

    if not args.no_memory:
        light = {"periods": 12, "params": {"n_bureaus": 10}} if args.memory_model == "light" else {}
        peaks = []
        for pts in mem_points:
            n = max(2, round(pts / (d + 2)))
            spec = write_spec(tmp, f"memory_{pts}", n, **light)
            res = run_sweep_command(spec, tmp / f"memory_{pts}", workers, "processes")
            print(f"memory {n * (d + 2):,} points: {res['summary']}", flush=True)
            peaks.append(res)
            rows.append(
                (
                    f"peak memory, {n * (d + 2):,} points ({args.memory_model} model): "
                    "all processes / main (MB)",
                    f"{res['peak_total_mb']:.0f} / {res['peak_main_mb']:.0f}",
                    "",
                    "",
                )
            )
        growth = peaks[1]["peak_total_mb"] / peaks[0]["peak_total_mb"]
        growth_main = peaks[1]["peak_main_mb"] / peaks[0]["peak_main_mb"]
        rows.append(
            (
                f"peak memory ratio {mem_points[1]:,} / {mem_points[0]:,} points, all processes",
                f"{growth:.2f}x",
                "<= 1.2x",
                verdict(growth <= 1.2),
            )
        )
        rows.append(
            (
                f"peak memory ratio {mem_points[1]:,} / {mem_points[0]:,} points, main process",
                f"{growth_main:.2f}x",
                "<= 1.2x",
                verdict(growth_main <= 1.2),
            )
        )

    print(f"\nload average after {os.getloadavg()}\n")
    print_table(rows)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
