"""Brian2 on galvani's COBA network (configs/coba.toml), for a side-by-side rate and time.

Run from ../shared/peers with its venv, on a network file made by its common.py:
    python common.py cuba 4000            # the same pairwise-Bernoulli connectivity and v0
    .venv/bin/python /path/to/galvani/tools/bench_brian2_coba.py out/nets/cuba_N4000_seed1234_v0default.npz [T_ms]
Convert the same file for galvani with tools/peer_net_to_galvani.py and run
tools/coba_from_files.toml on it. Prints one JSON line (spikes, rate, run_s).

Model as configs/coba.toml: exp_conductance LIF, C 200 pF, g_L 10 nS, E_L = V_reset =
-60 mV, V_th -50 mV, t_ref 5 ms (+dt: Brian2 counts from the start of the step),
E_AMPA 0, E_GABA-A -80 mV, tau 5 / 10 ms, weights 6 / 67 nS, delay 0.1 ms, exponential
Euler, and a 250 pA kick on [0, 50) ms.
"""
import json
import sys
import time

import numpy as np
import brian2 as b
from brian2 import ms, mV, nS, pA, pF

net = np.load(sys.argv[1])
T = float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0
b.set_device("cpp_standalone", build_on_run=False)
b.defaultclock.dt = 0.1 * ms
N, NE, pre, post = int(net["N"]), int(net["NE"]), net["pre"], net["post"]
ns = dict(C=200 * pF, gl=10 * nS, El=-60 * mV, Vt=-50 * mV, Vr=-60 * mV, Ee=0 * mV, Ei=-80 * mV,
          taue=5 * ms, taui=10 * ms, we=6 * nS, wi=67 * nS)
G = b.NeuronGroup(N, """dv/dt = (gl*(El - v) + ge*(Ee - v) + gi*(Ei - v) + I) / C : volt (unless refractory)
                        dge/dt = -ge / taue : siemens
                        dgi/dt = -gi / taui : siemens
                        I : amp""",
                  threshold="v >= Vt", reset="v = Vr", refractory=5.1 * ms, method="exponential_euler")
G.v = net["v0"] * mV
exc = pre < NE
Se = b.Synapses(G, G, on_pre="ge += we", delay=0.1 * ms)
Se.connect(i=pre[exc], j=post[exc])
Si = b.Synapses(G, G, on_pre="gi += wi", delay=0.1 * ms)
Si.connect(i=pre[~exc], j=post[~exc])
mon = b.SpikeMonitor(G)
G.I = 250 * pA
b.run(50 * ms, namespace=ns)
G.I = 0 * pA
b.run((T - 50) * ms, namespace=ns)
b.device.build(directory=None, compile=True, run=True)
n = len(mon.t[:])
print(json.dumps(dict(sim=f"brian2-{b.__version__}-standalone", net="coba", N=N, T_ms=T, spikes=int(n),
                      mean_rate_hz=round(n / N / (T / 1000.0), 3),
                      run_s=round(float(b.device._last_run_time), 4))))
