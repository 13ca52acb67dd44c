"""Converts a ../shared/peers network file (.npz) and a peer spike CSV into galvani inputs.

    python tools/peer_net_to_galvani.py NET.npz OUTDIR [PEER_SPIKES.csv]

Writes OUTDIR/edges_<pre>_<post>.csv (pre,post, population-local), OUTDIR/v0_<pop>.csv
(neuron,v_mv) for populations exc (ids < NE) and inh, and, given a peer spike CSV
(neuron_id,time_ms with Brian2's start-of-step times), OUTDIR/spikes_reference.csv in
galvani's format (time_ms,population,neuron; end-of-step times, sorted).
"""
import os
import sys

import numpy as np

net = np.load(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
N, NE = int(net["N"]), int(net["NE"])
pre, post, v0 = net["pre"], net["post"], net["v0"]
pops = {"exc": (0, NE), "inh": (NE, N)}
for a, (a0, a1) in pops.items():
    for b, (b0, b1) in pops.items():
        m = (pre >= a0) & (pre < a1) & (post >= b0) & (post < b1)
        e = np.stack([pre[m] - a0, post[m] - b0], axis=1)
        np.savetxt(os.path.join(out, f"edges_{a}_{b}.csv"), e, fmt="%d", delimiter=",", header="pre,post", comments="")
    idx = np.arange(a1 - a0)
    with open(os.path.join(out, f"v0_{a}.csv"), "w") as f:
        f.write("neuron,v_mv\n")
        for i in idx:
            f.write(f"{i},{float(v0[a0 + i])!r}\n")
if len(sys.argv) > 3:
    d = np.loadtxt(sys.argv[3], delimiter=",", skiprows=1, ndmin=2)
    ids = d[:, 0].astype(np.int64)
    steps = np.round(d[:, 1] / 0.1).astype(np.int64) + 1  # end of the step
    pop = (ids >= NE).astype(np.int64)
    local = ids - pop * NE
    order = np.lexsort((local, pop, steps))
    with open(os.path.join(out, "spikes_reference.csv"), "w") as f:
        f.write("time_ms,population,neuron\n")
        for k in order:
            t = round(float(steps[k]) * 0.1, 9)
            f.write(f"{t!r},{'inh' if pop[k] else 'exc'},{int(local[k])}\n")
