#!/usr/bin/env python3
"""NEST 3.10 reference data for galvani's LIF synapse kinds: `alpha_current` (NEST
`iaf_psc_alpha`), `alpha_conductance` (`iaf_cond_alpha`), and single-neuron voltage
traces for `exp_current` (`iaf_psc_exp`) and `delta` (`iaf_psc_delta`).

Writes tests/data/lif_nest/:

- `network.json`: the recurrent network's constants. Its connections are not stored:
  they follow from an integer hash (`edges` below, mirrored by the Rust test
  `tests/suite/alpha.rs`), so both simulators build exactly the same synapses, and the
  fixture stays small. N_E + N_I neurons, each with K_E excitatory and K_I inhibitory
  inputs drawn with replacement (multapses, each with its own delay), weights on a
  binary grid (multiples of 2^-20 pA: every sum is exact in any order), DC drive.
- `network_spikes.csv`: NEST's spikes of that network (time_ms,population,neuron).
- `single.toml`: single neurons (each its own population and parameters, among them
  tau_syn = tau_m) driven by spike generators, in galvani's config format.
- `single_v.csv`: NEST's membrane potential of each single neuron after every step
  (time_ms,neuron,v_mv, printed with repr so that every bit survives), and
  `single_spikes.csv` their spikes.
- `single_exp.*` and `single_delta.*`: the same single neurons as `iaf_psc_exp` and
  `iaf_psc_delta` (delta weights: the pA weights / 100, in mV).
- `cond.toml`, `cond_v.csv`, `cond_spikes.csv`: the same for `alpha_conductance`
  (NEST `iaf_cond_alpha`, which NEST integrates with GSL's adaptive RKF45, so galvani
  is compared with a tolerance): single neurons driven by DC and by irregular
  excitatory and inhibitory input for 1 s.

Run with the peers' venv (`bash ../shared/peers/setup.sh`):
    ../shared/peers/.venv/bin/python tools/nest_lif_reference.py
"""

import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "lif_nest")
DT = 0.1
M64 = (1 << 64) - 1

NET = {
    "n_e": 1000,
    "n_i": 250,
    "k_e": 800,
    "k_i": 200,
    # weights: w_e·(0.5 + u) and −w_i·(0.5 + u), u uniform in [0, 1), on the grid
    "w_e_pa": 12.0,
    "w_i_pa": 50.0,
    "grid_bits": 20,
    # delays: 1 + (hash mod max_delay_steps) steps
    "max_delay_steps": 30,
    "duration_ms": 1000.0,
    "params": {
        "c_m_pf": 250.0,
        "tau_m_ms": 10.0,
        "e_l_mv": 0.0,
        "v_th_mv": 20.0,
        "v_reset_mv": 0.0,
        "t_ref_ms": 2.0,
        "tau_ampa_ms": 0.5,
        "tau_gaba_a_ms": 1.0,
        "i_e_pa": 510.0,
    },
    # initial V: v0_max_mv · u
    "v0_max_mv": 20.0,
}


def splitmix(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def h(tag, i, k):
    """The hash of (tag, neuron, index): tests/suite/alpha.rs `h`."""
    return splitmix((tag << 40) | (i << 20) | k)


def unit(x):
    """A hash as a uniform number in [0, 1) (53 bits)."""
    return (x >> 11) * 2.0**-53


def grid(x, bits):
    return round(x * 2.0**bits) / 2.0**bits


def edges(net):
    """(pre, post, weight, delay_steps) of every synapse, global 0-based ids, post-major:
    post j's k-th excitatory input has pre h(1, j, k) mod N_E, delay 1 + h(2, j, k) mod
    D, weight w_e (0.5 + unit(h(3, j, k))) on the grid; its k-th inhibitory input pre
    N_E + h(4, j, k) mod N_I, delay from h(5, j, k), weight from h(6, j, k) (negative)."""
    n = net["n_e"] + net["n_i"]
    b, d = net["grid_bits"], net["max_delay_steps"]
    out = []
    for j in range(n):
        for k in range(net["k_e"]):
            out.append((h(1, j, k) % net["n_e"], j,
                        grid(net["w_e_pa"] * (0.5 + unit(h(3, j, k))), b), 1 + h(2, j, k) % d))
        for k in range(net["k_i"]):
            out.append((net["n_e"] + h(4, j, k) % net["n_i"], j,
                        -grid(net["w_i_pa"] * (0.5 + unit(h(6, j, k))), b), 1 + h(5, j, k) % d))
    return out


def nest_params(p, synapses=True):
    q = {
        "C_m": p["c_m_pf"], "tau_m": p["tau_m_ms"], "E_L": p["e_l_mv"],
        "V_th": p["v_th_mv"], "V_reset": p["v_reset_mv"], "t_ref": p["t_ref_ms"],
        "I_e": p["i_e_pa"],
    }
    if synapses:
        q.update(tau_syn_ex=p["tau_ampa_ms"], tau_syn_in=p["tau_gaba_a_ms"])
    return q


# the single-neuron runs: (file prefix, NEST model, galvani synapse kind, weight factor)
SINGLE_RUNS = [
    ("single", "iaf_psc_alpha", "alpha_current", 1.0),
    ("single_exp", "iaf_psc_exp", "exp_current", 1.0),
    ("single_delta", "iaf_psc_delta", "delta", 0.01),
]


def run_network(nest):
    net = NET
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    n = net["n_e"] + net["n_i"]
    v0 = [net["v0_max_mv"] * unit(h(7, j, 0)) for j in range(n)]
    pop = nest.Create("iaf_psc_alpha", n, params=nest_params(net["params"]))
    pop.set(V_m=v0)
    e = edges(net)
    pre = np.array([x[0] for x in e], dtype=np.int64) + pop[0].global_id
    post = np.array([x[1] for x in e], dtype=np.int64) + pop[0].global_id
    w = np.array([x[2] for x in e])
    d = np.array([x[3] for x in e], dtype=float) * DT
    nest.Connect(pre, post, conn_spec="one_to_one", syn_spec={"weight": w, "delay": d})
    assert nest.num_connections == len(e), "every multapse is its own connection"
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    nest.Simulate(net["duration_ms"])
    ev = rec.get("events")
    first = pop[0].global_id
    rows = sorted((round(t / DT), s - first) for s, t in zip(ev["senders"], ev["times"]))
    with open(os.path.join(OUT, "network_spikes.csv"), "w") as f:
        f.write("time_ms,population,neuron\n")
        for step, g in rows:
            name, i = ("exc", g) if g < net["n_e"] else ("inh", g - net["n_e"])
            f.write(f"{step * DT:.1f},{name},{i}\n")
    with open(os.path.join(OUT, "network.json"), "w") as f:
        json.dump(net, f, indent=1)
    rate = len(rows) / n / (net["duration_ms"] / 1000.0)
    print(f"network: {n} neurons, {len(e)} synapses, {len(rows)} spikes ({rate:.2f} Hz)")


# Single neurons: parameters and the spike times of one excitatory and one inhibitory
# generator each (weight, delay). tau_syn = tau_m in neuron 1 (NEST's singular
# propagators); neuron 2 fires tonically from I_e.
SINGLE = [
    {"params": {"tau_m_ms": 20.0, "c_m_pf": 250.0, "e_l_mv": -70.0, "v_th_mv": -55.0,
                "v_reset_mv": -70.0, "t_ref_ms": 2.0, "tau_ampa_ms": 2.0,
                "tau_gaba_a_ms": 5.0, "i_e_pa": 0.0},
     "exc": ([5.0, 12.3, 12.4, 40.0, 41.0, 42.0, 43.0], 300.0, 1.0),
     "inh": ([20.0, 60.0, 60.1], -200.0, 2.3)},
    {"params": {"tau_m_ms": 10.0, "c_m_pf": 200.0, "e_l_mv": -65.0, "v_th_mv": -50.0,
                "v_reset_mv": -68.0, "t_ref_ms": 3.0, "tau_ampa_ms": 10.0,
                "tau_gaba_a_ms": 3.0, "i_e_pa": 100.0},
     "exc": ([3.0, 3.5, 4.0, 4.5, 5.0, 30.0, 30.2, 30.4, 30.6, 70.0], 400.0, 0.1),
     "inh": ([50.0, 80.0], -150.0, 0.5)},
    {"params": {"tau_m_ms": 10.0, "c_m_pf": 250.0, "e_l_mv": 0.0, "v_th_mv": 20.0,
                "v_reset_mv": 0.0, "t_ref_ms": 0.5, "tau_ampa_ms": 0.32582722403722841,
                "tau_gaba_a_ms": 0.32582722403722841, "i_e_pa": 600.0},
     "exc": ([7.0, 15.0, 15.0, 33.3, 90.0], 87.81, 1.5),
     "inh": ([10.0, 55.5, 56.0, 120.0], -439.0, 1.5)},
]
SINGLE_MS = 150.0


def simulate_and_write(nest, neurons, ms, prefix):
    """Records every neuron's V after every step and its spikes, simulates `ms`, and
    writes `<prefix>_v.csv` (V with repr: every bit) and `<prefix>_spikes.csv`
    (population `n<i>`); returns the rows of both."""
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    rec = nest.Create("spike_recorder")
    for nrn in neurons:
        nest.Connect(mm, nrn)
        nest.Connect(nrn, rec)
    nest.Simulate(ms)
    index = {nrn.global_id: i for i, nrn in enumerate(neurons)}
    ev = mm.get("events")
    rows = sorted((round(t / DT), index[s], v) for s, t, v in zip(ev["senders"], ev["times"], ev["V_m"]))
    with open(os.path.join(OUT, f"{prefix}_v.csv"), "w") as f:
        f.write("time_ms,neuron,v_mv\n")
        for step, i, v in rows:
            f.write(f"{step * DT:.1f},{i},{float(v)!r}\n")
    sp = rec.get("events")
    srows = sorted((round(t / DT), index[s]) for s, t in zip(sp["senders"], sp["times"]))
    with open(os.path.join(OUT, f"{prefix}_spikes.csv"), "w") as f:
        f.write("time_ms,population,neuron\n")
        for step, i in srows:
            f.write(f"{step * DT:.1f},n{i},0\n")
    return rows, srows


def run_single(nest, prefix, model, synapse, scale):
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    neurons, gens = [], []
    for s in SINGLE:
        nrn = nest.Create(model, params=nest_params(s["params"], synapse != "delta"))
        nrn.set(V_m=s["params"]["e_l_mv"])
        neurons.append(nrn)
        for kind in ("exc", "inh"):
            times, w, d = s[kind]
            w = w * scale
            # repeated times: one spike of multiplicity 2 in NEST, and a two-entry list
            # for galvani, which gives two synapses of the same weight the same effect
            # only if listed twice as sources; so repeats are split into two generators
            first, again = [], []
            for t in times:
                (again if t in first else first).append(t)
            for ts in (first, again):
                if not ts:
                    continue
                g = nest.Create("spike_generator", params={"spike_times": ts})
                nest.Connect(g, nrn, syn_spec={"weight": w, "delay": d})
                gens.append((len(neurons) - 1, kind, ts, w, d))
    rows, srows = simulate_and_write(nest, neurons, SINGLE_MS, prefix)
    write_toml(f"{prefix}.toml", model, synapse, [s["params"] for s in SINGLE], gens,
               SINGLE_MS, f"{prefix}_v.csv", f"{prefix}_spikes.csv")
    print(f"{model}: {len(SINGLE)} single neurons, {len(rows)} samples, {len(srows)} spikes")


# alpha_conductance neurons: parameters (galvani names; g_L = C_m/tau_m), DC, and the
# number of excitatory and inhibitory input spikes in 1 s (times from the hash; weights
# in nS).
COND = [
    {"params": {"tau_m_ms": 15.0, "c_m_pf": 250.0, "e_l_mv": -70.0, "v_th_mv": -55.0,
                "v_reset_mv": -60.0, "t_ref_ms": 2.0, "tau_ampa_ms": 0.5,
                "tau_gaba_a_ms": 2.0, "e_ampa_mv": 0.0, "e_gaba_a_mv": -85.0,
                "i_e_pa": 200.0},
     "exc": (1500, 6.0, 1.0), "inh": (400, 8.0, 1.5)},
    {"params": {"tau_m_ms": 20.0, "c_m_pf": 200.0, "e_l_mv": -65.0, "v_th_mv": -50.0,
                "v_reset_mv": -65.0, "t_ref_ms": 5.0, "tau_ampa_ms": 5.0,
                "tau_gaba_a_ms": 10.0, "e_ampa_mv": 0.0, "e_gaba_a_mv": -80.0,
                "i_e_pa": 250.0},
     "exc": (300, 1.0, 0.5), "inh": (100, 2.0, 0.8)},
]
COND_MS = 1000.0


def run_cond(nest):
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    neurons, gens = [], []
    for i, c in enumerate(COND):
        p = c["params"]
        nrn = nest.Create("iaf_cond_alpha", params={
            "C_m": p["c_m_pf"], "g_L": p["c_m_pf"] / p["tau_m_ms"], "E_L": p["e_l_mv"],
            "V_th": p["v_th_mv"], "V_reset": p["v_reset_mv"], "t_ref": p["t_ref_ms"],
            "tau_syn_ex": p["tau_ampa_ms"], "tau_syn_in": p["tau_gaba_a_ms"],
            "E_ex": p["e_ampa_mv"], "E_in": p["e_gaba_a_mv"], "I_e": p["i_e_pa"]})
        nrn.set(V_m=p["e_l_mv"])
        neurons.append(nrn)
        for tag, kind in ((8, "exc"), (9, "inh")):
            count, w, d = c[kind]
            steps = int(round(COND_MS / DT))
            ts = sorted({(1 + h(tag, i, k) % (steps - 1)) for k in range(count)})
            times = [k * DT for k in ts]
            g = nest.Create("spike_generator", params={"spike_times": times})
            # NEST's conductance models take the sign of the weight as the receptor
            nest.Connect(g, nrn, syn_spec={"weight": w if kind == "exc" else -w, "delay": d})
            gens.append((i, kind, times, w, d))
    rows, srows = simulate_and_write(nest, neurons, COND_MS, "cond")
    write_toml("cond.toml", "iaf_cond_alpha", "alpha_conductance", [c["params"] for c in COND],
               gens, COND_MS, "cond_v.csv", "cond_spikes.csv")
    print(f"cond neurons: {len(COND)}, {len(srows)} spikes")


def write_toml(name, nest_model, synapse, params, gens, ms, v_file, spikes_file):
    t = [
        f"# Single {nest_model} neurons driven by spike generators: the network of",
        "# tools/nest_lif_reference.py (which writes this file), whose NEST 3.10 voltages",
        f"# are {v_file} and spikes {spikes_file}.",
        "[simulation]",
        f"dt_ms = {DT}",
        f"duration_ms = {ms}",
        "",
    ]
    for i, p in enumerate(params):
        t += ["[[population]]", f'name = "n{i}"', "size = 1", 'model = "lif"',
              f'synapse = "{synapse}"', "[population.params]"]
        t += [f"{k} = {v!r}" for k, v in p.items()]
        t += ["[population.init]", f"v_mv = {p['e_l_mv']!r}", ""]
    for k, (i, kind, ts, w, d) in enumerate(gens):
        t += ["[[population]]", f'name = "g{k}"', "size = 1", 'model = "spike_source"',
              f"spike_times = [{ts!r}]", ""]
    for k, (i, kind, ts, w, d) in enumerate(gens):
        t += ["[[projection]]", f'pre = "g{k}"', f'post = "n{i}"',
              f'receptor = "{"ampa" if kind == "exc" else "gaba_a"}"', f"weight = {w!r}",
              f"delay_ms = {d!r}", 'connect = { rule = "one_to_one" }', ""]
    t += ["[record]", "spikes = true", "voltage = ["]
    t += [f'  {{ population = "n{i}", neurons = [0], every_steps = 1 }},' for i in range(len(params))]
    t += ["]", ""]
    with open(os.path.join(OUT, name), "w") as f:
        f.write("\n".join(t))


def main():
    import nest

    assert nest.__version__.startswith("3.10"), f"NEST 3.10 expected, got {nest.__version__}"
    os.makedirs(OUT, exist_ok=True)
    what = sys.argv[1:] or ["single", "network", "cond"]
    if "single" in what:
        for run in SINGLE_RUNS:
            run_single(nest, *run)
    if "cond" in what:
        run_cond(nest)
    if "network" in what:
        run_network(nest)


if __name__ == "__main__":
    main()
