"""galvani's CPU backend next to Brian2 2.11 cpp_standalone, side by side on identical
networks (the ../shared/peers harness), runs interleaved, best of N for each side.

    python benches/vs_brian2.py --peers ../shared/peers --reps 3 [--threads 1 2] [--nets cuba:4000 ...]

PEERS must hold the harness with its venv (`bash setup.sh` there makes .venv). For each
network the peers' generator (common.py) writes the .npz file both simulators load;
tools/peer_net_to_galvani.py turns it into edge CSVs and a galvani config (CUBA: the
config of tests/data/cuba4000; Brunel: configs/brunel.toml with the file's edges and
V0). Each repetition runs, in turn, galvani (`galvani bench`, loop time `run_s`) and
Brian2 standalone (`device._last_run_time`) on every thread count. One JSON line per
run, then a table: best loop time of each side and galvani / Brian2.
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable  # the peers' venv python (numpy), set in main()


def galvani_config(net, n, npz, out):
    """Edge CSVs and a config for the peers' network file `npz`; returns its path."""
    subprocess.run([PY, os.path.join(ROOT, "tools/peer_net_to_galvani.py"), npz, out],
                   check=True)
    if net == "cuba":
        text = open(os.path.join(ROOT, "tests/data/cuba4000/cuba_reference.toml")).read()
    else:
        text = open(os.path.join(ROOT, "configs/brunel.toml")).read()
        # the file's edges instead of the rule (same in-degree, NEST's fixed_indegree)
        text = re.sub(r'connect = \{ rule = "fixed_indegree", k = \d+ \}', "CONNECT", text)
        for a, b in [("exc", "exc"), ("exc", "inh"), ("inh", "exc"), ("inh", "inh")]:
            text = text.replace("CONNECT", f'connect = {{ rule = "file", path = "edges_{a}_{b}.csv" }}', 1)
    ne = int(0.8 * n)
    text = text.replace("size = 3200", f"size = {ne}").replace("size = 800", f"size = {n - ne}")
    text = text.replace("size = 10000", f"size = {ne}").replace("size = 2500", f"size = {n - ne}")
    # spikes recorded, nothing else (as the peers do)
    text = re.sub(r"^voltage = .*$", "", text, flags=re.M)
    path = os.path.join(out, f"{net}{n}.toml")
    open(path, "w").write(text)
    return path


def last_json(text):
    lines = [l for l in text.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", default=os.path.join(ROOT, "../shared/peers"))
    ap.add_argument("--galvani", default=os.path.join(ROOT, "target/release/galvani"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--nets", nargs="+", default=["cuba:4000", "cuba:16000", "cuba:64000", "brunel:12500"])
    ap.add_argument("--T", type=float, default=1000.0)
    ap.add_argument("--precision", nargs="+", default=["f32", "f64"],
                    help="galvani's precisions (Brian2 computes in f64)")
    a = ap.parse_args()
    global PY
    py = PY = os.path.join(a.peers, ".venv/bin/python")
    nets = []
    for spec in a.nets:
        net, n = spec.split(":")
        n = int(n)
        subprocess.run([py, "common.py", net, str(n)], cwd=a.peers, check=True, stdout=subprocess.DEVNULL)
        npz = os.path.join(a.peers, "out/nets", f"{net}_N{n}_seed1234_v0default.npz")
        out = os.path.join(a.peers, "out/galvani", f"{net}{n}")
        nets.append((net, n, galvani_config(net, n, npz, out)))
    best = {}
    for rep in range(1, a.reps + 1):
        for net, n, cfg in nets:
            for t in a.threads:
                runs = [
                    (f"galvani-{prec}", [a.galvani, "bench", cfg, "--backend", "cpu", "--threads",
                                         str(t), "--precision", prec, "--duration-ms", str(a.T)], None)
                    for prec in a.precision
                ] + [
                    ("brian2", [py, "bench_brian2.py", "--net", net, "--N", str(n), "--T", str(a.T),
                                "--threads", str(t), "--rep", str(rep)], a.peers),
                ]
                for sim, cmd, cwd in runs:
                    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
                    r = last_json(p.stdout)
                    if p.returncode != 0 or r is None:
                        print(f"FAILED: {' '.join(cmd)}\n{p.stderr[-2000:]}", file=sys.stderr)
                        continue
                    row = dict(sim=sim, net=net, N=n, threads=t, rep=rep, run_s=r["run_s"],
                               spikes=r["spikes"], synapses=r.get("synapses"))
                    print(json.dumps(row), flush=True)
                    key = (net, n, t, sim)
                    best[key] = min(best.get(key, float("inf")), r["run_s"])
    cols = [f"galvani-{p}" for p in a.precision]
    print("\n| network | threads | " + " | ".join(f"{c} loop (s)" for c in cols)
          + " | Brian2 loop (s) | " + " | ".join(f"{c} / Brian2" for c in cols) + " |")
    print("|---" * (3 + 2 * len(cols)) + "|")
    for net, n, _ in nets:
        for t in a.threads:
            b = best.get((net, n, t, "brian2"))
            gs = [best.get((net, n, t, c)) for c in cols]
            fmt = lambda x: f"{x:.3f}" if x else "-"
            ratios = [f"{g / b:.2f}" if g and b else "-" for g in gs]
            print(f"| {net} {n} | {t} | " + " | ".join(fmt(g) for g in gs) + f" | {fmt(b)} | "
                  + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
