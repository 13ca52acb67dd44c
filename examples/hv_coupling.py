"""Two synaptically coupled Herrera-Valdez cells, after the seed notebook
"Neuronal dynamics in small networks: simple synaptic coupling"
(../shared/seeds/hv-notebook-simple-coupling.txt), built in Python with galvani.

As in the notebook, the coupling is one AMPA connection given as a connection matrix
(cell 0 -> cell 1) whose release is the presynaptic cell's sigmoid of v, gathered every
step. The model and its parameters are those of the spec (../shared/specs/hv-model.md),
which fixes the notebook's bugs: the cells start at rest rather than at -30 mV with
w = 1 (above threshold), and cell 0 is driven by 180 pA so that it fires tonically
(the spec's reference case b, configs/hv_pair.toml in TOML).

    python examples/hv_coupling.py [out.png]
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import galvani

# the notebook's connection matrix: conn[post, pre] = 1 where pre excites post
conn_ampa = np.array([[0, 0], [1, 0]])
post, pre = np.nonzero(conn_ampa)

net = galvani.Network(dt_ms=1 / 70)  # the notebook's time step
net.add_population(
    "cells",
    2,
    model="hv",
    params={"i_e_pa": np.array([180.0, 0.0])},  # cell 0 driven, cell 1 at rest
)
# weight = receptor activation per unit of release: 30 × N_Ampa receptors
net.add_edges("cells", "cells", pre, post, weight=30.0, receptor="ampa")
net.record_voltage("cells")

sim = galvani.Simulation(net, backend="cpu", precision="f64")
sim.run(40.0)  # the notebook's 40 ms ...
sim.run(60.0)  # ... and on to 100 ms: runs continue where they stopped
t, neuron, v = sim.voltages("cells")
st, sn = sim.spikes("cells")

fig, ax = plt.subplots(figsize=(10, 5), dpi=120)
for k, (label, colour) in enumerate([("cell 0 (180 pA)", "tab:blue"),
                                     ("cell 1 (AMPA from cell 0)", "tab:orange")]):
    sel = neuron == k
    ax.plot(t[sel], v[sel], color=colour, lw=1.2, label=label)
    spikes = st[sn == k]
    ax.plot(spikes, np.full(len(spikes), 45.0 + 5 * k), "v", color=colour, ms=5)
lag = np.mean(st[sn == 1] - st[sn == 0][: np.count_nonzero(sn == 1)])
ax.set_xlabel("time (ms)")
ax.set_ylabel("v (mV)")
ax.set_title(
    f"Two coupled Herrera-Valdez cells (galvani, Python): {np.count_nonzero(sn == 0)} + "
    f"{np.count_nonzero(sn == 1)} spikes, cell 1 follows {lag:.2f} ms later"
)
ax.legend(loc="lower right", framealpha=0.95)
ax.grid(alpha=0.3)
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "hv_coupling.png"
fig.savefig(out)
print(f"{out}: spikes at {np.round(st, 3).tolist()} ms (cells {sn.tolist()})")
