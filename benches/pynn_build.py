"""Building a large network through galvani.pynn against the same network from a TOML
config (galvani's Python API), each in a fresh interpreter.

    python benches/pynn_build.py [--reps 3] [--n 10000] [--p 0.1] [--python-drawing]

The network: ``n`` IF_curr_exp cells (PyNN's default parameters) with
FixedProbabilityConnector(p) onto themselves (n²·p synapses, 10^7 by default; weight
0.1 nA, delay 1 ms), built and run for 10 ms on the CPU backend in f64 (galvani.pynn's
default), recording spikes:

- ``pynn``: ``import galvani.pynn as sim`` ... ``sim.run(10.0)``; the connector has no rng,
  so galvani draws the connections with its own rule;
- ``pynn_numpyrng`` (with ``--python-drawing``): the same with
  ``rng=NumpyRNG(seed=42)``: PyNN draws every connection in Python (what every
  projection did before galvani.pynn mapped connectors to galvani's rules);
- ``toml``: ``galvani.load(config)`` + ``galvani.Simulation(net, "cpu", "f64").run()``;
- ``startup``: ``python -c 'import galvani'``, the interpreter's own start-up;
- ``startup_pynn``: ``python -c 'import galvani.pynn'`` (PyNN, neo, quantities, ...).

Each is a fresh subprocess; the variants are interleaved, ``--reps`` times; the wall time
is measured around the subprocess and the peak RSS is the child's own ``ru_maxrss``
(``os.wait4``). The table gives the best of the repetitions of each; the goal is PyNN at
most 2× TOML's time plus the start-up time, and at most 3× TOML's memory plus the
start-up memory. Every run, and a summary, are written as JSON lines to
``benches/pynn_build_<date>.jsonl``.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

TOML = """\
[simulation]
dt_ms = 0.1
duration_ms = 10.0
seed = 1234

[[population]]
name = "p0"
size = {n}
model = "lif"
synapse = "exp_current"
[population.params]   # PyNN's IF_curr_exp defaults in galvani's units
tau_m_ms = 20.0
c_m_pf = 1000.0
e_l_mv = -65.0
v_th_mv = -50.0
v_reset_mv = -65.0
t_ref_ms = 0.1
i_e_pa = 0.0
tau_ampa_ms = 5.0
tau_gaba_a_ms = 5.0
[population.init]
v_mv = -65.0

[[projection]]
pre = "p0"
post = "p0"
receptor = "ampa"
weight = 100.0
delay_ms = 1.0
connect = {{ rule = "fixed_probability", p = {p} }}

[record]
spikes = true
"""

TOML_RUN = """\
import sys, galvani
net = galvani.load(sys.argv[1])
sim = galvani.Simulation(net, backend="cpu", precision="f64")
sim.run()
print("SYNAPSES", sim.synapses)
"""

PYNN_RUN = """\
import sys
import galvani.pynn as sim
from pyNN.random import NumpyRNG
n, p, own_rng = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
sim.setup(timestep=0.1)
cells = sim.Population(n, sim.IF_curr_exp())
connector = (sim.FixedProbabilityConnector(p, rng=NumpyRNG(seed=42)) if own_rng
             else sim.FixedProbabilityConnector(p))
sim.Projection(cells, cells, connector, sim.StaticSynapse(weight=0.1, delay=1.0))
sim.run(10.0)
print("SYNAPSES", sim.simulator.state.sim.synapses)
sim.end()
"""


def run_measured(cmd):
    """(wall seconds, peak RSS in MB of this child alone, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"pynn_build: {' '.join(cmd)} failed:\n{err.read()}")
        # ru_maxrss is in KiB on Linux
        return wall, usage.ru_maxrss / 1024.0, out.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--p", type=float, default=0.1)
    ap.add_argument("--python-drawing", action="store_true",
                    help="also time the network drawn by PyNN (NumpyRNG)")
    ap.add_argument("--out", default=None, help="the JSON lines file")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="pynn_build_")
    cfg = os.path.join(tmp, "net.toml")
    with open(cfg, "w") as f:
        f.write(TOML.format(n=a.n, p=a.p))
    py = sys.executable
    variants = {
        "startup": [py, "-c", "import galvani"],
        "startup_pynn": [py, "-c", "import galvani.pynn"],
        "toml": [py, "-c", TOML_RUN, cfg],
        "pynn": [py, "-c", PYNN_RUN, str(a.n), str(a.p), "0"],
    }
    if a.python_drawing:
        variants["pynn_numpyrng"] = [py, "-c", PYNN_RUN, str(a.n), str(a.p), "1"]

    date = datetime.date.today().isoformat()
    path = a.out or os.path.join(HERE, f"pynn_build_{date}.jsonl")
    meta = {"date": date, "host": platform.node(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "n": a.n, "p": a.p}
    runs = {k: [] for k in variants}
    with open(path, "a") as log:
        for rep in range(a.reps):
            for name, cmd in variants.items():
                wall, rss, out = run_measured(cmd)
                syn = [int(line.split()[1]) for line in out.splitlines()
                       if line.startswith("SYNAPSES")]
                rec = {**meta, "variant": name, "rep": rep, "wall_s": round(wall, 4),
                       "peak_rss_mb": round(rss, 1), "synapses": syn[0] if syn else None}
                runs[name].append(rec)
                log.write(json.dumps(rec) + "\n")
                log.flush()
                print(f"  {name:14s} rep {rep}: {wall:7.3f} s  {rss:8.1f} MB", file=sys.stderr)

        best = {k: {"wall_s": min(r["wall_s"] for r in v),
                    "peak_rss_mb": min(r["peak_rss_mb"] for r in v),
                    "synapses": v[0]["synapses"]} for k, v in runs.items()}
        s, t, pn = best["startup"], best["toml"], best["pynn"]
        goal_time = 2 * t["wall_s"] + s["wall_s"]
        goal_mem = 3 * t["peak_rss_mb"] + s["peak_rss_mb"]
        summary = {**meta, "variant": "summary", "reps": a.reps, "best": best,
                   "goal_wall_s": round(goal_time, 4), "goal_peak_rss_mb": round(goal_mem, 1),
                   "time_ok": pn["wall_s"] <= goal_time,
                   "memory_ok": pn["peak_rss_mb"] <= goal_mem}
        log.write(json.dumps(summary) + "\n")

    print(f"{a.n} IF_curr_exp cells, FixedProbabilityConnector({a.p}) onto themselves, "
          f"10 ms, CPU f64; best of {a.reps}, fresh interpreter each ({date}, "
          f"{os.cpu_count()} cores)\n")
    print("| variant | synapses | wall (s) | peak RSS (MB) |")
    print("|---|---|---|---|")
    for k, b in best.items():
        syn = f"{b['synapses']:,}" if b["synapses"] is not None else "-"
        print(f"| {k} | {syn} | {b['wall_s']:.3f} | {b['peak_rss_mb']:.1f} |")
    print(f"\ngoal: pynn <= 2 x toml + startup = {goal_time:.3f} s "
          f"({'met' if summary['time_ok'] else 'NOT met'}: {pn['wall_s']:.3f} s); "
          f"<= 3 x toml + startup = {goal_mem:.1f} MB "
          f"({'met' if summary['memory_ok'] else 'NOT met'}: {pn['peak_rss_mb']:.1f} MB)")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
