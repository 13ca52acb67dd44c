"""Host memory of large networks: build time, peak and steady resident memory, bytes per
synapse, and steps per second, from `galvani run` on the CPU backend.

    python benches/memory.py [--galvani target/release/galvani] [--nets brunel100k brunel1e9]
                             [--ms 100] [--threads N]

The networks are configs/brunel.toml scaled (written to a temporary folder):
- brunel100k: 80 000 + 20 000 neurons, in-degree 1000 + 250 (1.25·10^8 synapses);
- brunel1e9: 80 000 + 20 000 neurons, in-degree 8000 + 2000 (10^9 synapses), J scaled
  by 1/8 so that the mean recurrent input stays that of Brunel's network;
- pd14: configs/pd14.toml (2.99·10^8 synapses, per-synapse weights and delays).
Peak memory is the process's VmHWM (`peak_rss_mb` of summary.json), steady memory its
VmRSS at the end of the run (`rss_mb`), after the patterns were freed.
"""
import argparse
import json
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def brunel(scale_k=1, j_scale=1.0):
    text = open(os.path.join(ROOT, "configs/brunel.toml")).read()
    net, *stim = text.split("[[stimulus]]")
    net = net.replace("size = 10000", "size = 80000").replace("size = 2500", "size = 20000")
    net = net.replace("k = 1000 }", f"k = {1000 * scale_k} }}").replace("k = 250 }", f"k = {250 * scale_k} }}")
    net = net.replace("\nweight = 0.1\n", f"\nweight = {0.1 * j_scale}\n")
    net = net.replace("\nweight = -0.5\n", f"\nweight = {-0.5 * j_scale}\n")
    return "[[stimulus]]".join([net] + stim)


NETS = {
    "brunel100k": lambda: brunel(),
    "brunel1e9": lambda: brunel(8, 1 / 8),
    "pd14": lambda: open(os.path.join(ROOT, "configs/pd14.toml")).read(),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--galvani", default=os.path.join(ROOT, "target/release/galvani"))
    ap.add_argument("--nets", nargs="+", default=["brunel100k", "brunel1e9"])
    ap.add_argument("--ms", type=float, default=100.0)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    print("| network | synapses | threads | build (s) | steps/s | peak RSS (GB) | B/synapse at peak | steady RSS (GB) | B/synapse steady |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in a.nets:
        cfg = os.path.join(tmp, f"{name}.toml")
        text = NETS[name]()
        if name == "pd14":  # its data files resolve against configs/
            cfg = os.path.join(ROOT, "configs", "pd14.toml")
        else:
            open(cfg, "w").write(text)
        out = os.path.join(tmp, f"out_{name}")
        cmd = [a.galvani, "run", cfg, "--backend", "cpu", "--duration-ms", str(a.ms), "--no-plots",
               "--quiet", "--out", out]
        if a.threads:
            cmd += ["--threads", str(a.threads)]
        subprocess.run(cmd, check=True)
        s = json.load(open(os.path.join(out, "summary.json")))
        syn = s["synapses"]
        peak, rss = s["peak_rss_mb"] * 1e6, s["rss_mb"] * 1e6
        print(json.dumps({k: s.get(k) for k in ("config", "synapses", "threads", "build_s", "simulate_s",
                                               "steps_per_s", "peak_rss_mb", "rss_mb", "spikes")}),
              flush=True)
        print(f"| {name} | {syn:.3g} | {s['threads']} | {s['build_s']:.1f} | {s['steps_per_s']:.0f} | "
              f"{peak / 1e9:.2f} | {peak / syn:.1f} | {rss / 1e9:.2f} | {rss / syn:.1f} |", flush=True)


if __name__ == "__main__":
    main()
