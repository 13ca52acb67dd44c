#!/usr/bin/env python3
"""NEST 3.10 reference data for galvani's `izhikevich` model (NEST `izhikevich`,
consistent_integration = true, its default).

Writes tests/data/izhikevich_nest/:

- `single.toml`: single neurons in the regimes of Izhikevich (2003), regular spiking
  (RS), fast spiking (FS), chattering (CH) and intrinsically bursting (IB), each driven by
  I_e and by excitatory and inhibitory spike generators, in galvani's config format;
  `single_v.csv`: NEST's V and u of each after every step of the first SINGLE_V_MS
  (printed with repr: every bit), `single_spikes.csv`: their spikes over SINGLE_MS.
- `network.toml` and `edges_<pre>_<post>.csv`: a recurrent network of N_E + N_I neurons
  (RS-like excitatory, FS-like inhibitory, parameters per neuron), each with K_E
  excitatory and K_I inhibitory inputs drawn with replacement (multapses, each with its
  own delay), weights in mV on a binary grid (multiples of 2^-20 mV: every sum is exact
  in any order), I_e per neuron; `network_spikes.csv`: NEST's spikes.

Run with the peers' venv (`bash ../shared/peers/setup.sh`):
    ../shared/peers/.venv/bin/python tools/nest_izhikevich_reference.py
"""

import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "izhikevich_nest")
DT = 0.1
M64 = (1 << 64) - 1
GRID = 20


def splitmix(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def h(tag, i, k):
    return splitmix((tag << 40) | (i << 20) | k)


def unit(x):
    return (x >> 11) * 2.0**-53


def grid(x):
    return round(x * 2.0**GRID) / 2.0**GRID


def nest_params(p):
    return {"a": p["a"], "b": p["b"], "c": p["c_mv"], "d": p["d"], "V_th": p["v_th_mv"],
            "V_min": p.get("v_min_mv", -1.7976931348623157e308), "I_e": p["i_e_pa"],
            "consistent_integration": True}


# (name, a, b, c, d, I_e, V_min or None); inputs: (times, weight mV, delay ms) per receptor
SINGLE = [
    ("rs", {"a": 0.02, "b": 0.2, "c_mv": -65.0, "d": 8.0, "v_th_mv": 30.0, "i_e_pa": 10.0},
     ([12.0, 12.3, 80.0, 80.0, 150.5], 4.0, 1.0), ([40.0, 41.0, 300.0], -6.5, 1.5)),
    ("fs", {"a": 0.1, "b": 0.2, "c_mv": -65.0, "d": 2.0, "v_th_mv": 30.0, "i_e_pa": 10.0},
     ([5.0, 5.0, 5.1, 222.2], 3.25, 0.1), ([60.0, 60.5, 61.0, 400.0], -8.0, 2.0)),
    ("ch", {"a": 0.02, "b": 0.2, "c_mv": -50.0, "d": 2.0, "v_th_mv": 30.0, "i_e_pa": 10.0,
            "v_min_mv": -80.0},
     ([100.0, 100.1, 100.2], 9.5, 1.0), ([33.0, 33.0, 33.0, 500.0], -30.0, 0.5)),
    ("ib", {"a": 0.02, "b": 0.2, "c_mv": -55.0, "d": 4.0, "v_th_mv": 30.0, "i_e_pa": 10.0},
     ([7.7, 250.0, 250.0, 251.0], 5.0, 3.0), ([120.0, 700.0], -12.25, 1.0)),
]
SINGLE_MS = 1000.0
SINGLE_V_MS = 200.0
V0, U0 = -70.0, -14.0

NET = {"n_e": 240, "n_i": 60, "k_e": 40, "k_i": 10, "w_e": 1.5, "w_i": 4.0,
       "max_delay_steps": 20, "ms": 1000.0}


def run_single(nest):
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    neurons, gens = [], []
    for name, p, exc, inh in SINGLE:
        nrn = nest.Create("izhikevich", params=nest_params(p))
        nrn.set(V_m=V0, U_m=U0)
        neurons.append(nrn)
        for kind, (times, w, d) in (("exc", exc), ("inh", inh)):
            # repeated times: one spike of multiplicity 2 in NEST; for galvani a second
            # generator (a spike source spikes once per step)
            first, again = [], []
            for t in times:
                (again if t in first else first).append(t)
            while first:
                g = nest.Create("spike_generator", params={"spike_times": first})
                nest.Connect(g, nrn, syn_spec={"weight": w, "delay": d})
                gens.append((len(neurons) - 1, kind, first, w, d))
                first, again = again, []
                rest = []
                for t in first:
                    (again if t in rest else rest).append(t)
                first = rest
    mm = nest.Create("multimeter", params={"record_from": ["V_m", "U_m"], "interval": DT,
                                           "stop": SINGLE_V_MS})
    rec = nest.Create("spike_recorder")
    for nrn in neurons:
        nest.Connect(mm, nrn)
        nest.Connect(nrn, rec)
    nest.Simulate(SINGLE_MS)
    index = {nrn.global_id: i for i, nrn in enumerate(neurons)}
    ev = mm.get("events")
    rows = sorted((round(t / DT), index[s], v, u) for s, t, v, u in
                  zip(ev["senders"], ev["times"], ev["V_m"], ev["U_m"]))
    with open(os.path.join(OUT, "single_v.csv"), "w") as f:
        f.write("time_ms,neuron,v_mv,u\n")
        for step, i, v, u in rows:
            f.write(f"{step * DT:.1f},{i},{float(v)!r},{float(u)!r}\n")
    sp = rec.get("events")
    srows = sorted((round(t / DT), index[s]) for s, t in zip(sp["senders"], sp["times"]))
    with open(os.path.join(OUT, "single_spikes.csv"), "w") as f:
        f.write("time_ms,population,neuron\n")
        for step, i in srows:
            f.write(f"{step * DT:.1f},{SINGLE[i][0]},0\n")
    t = ["# Single NEST `izhikevich` neurons (Izhikevich 2003 regimes) driven by I_e and",
         "# spike generators: written by tools/nest_izhikevich_reference.py; NEST 3.10's",
         "# V and u are single_v.csv, its spikes single_spikes.csv.",
         "[simulation]", f"dt_ms = {DT}", f"duration_ms = {SINGLE_MS}", ""]
    for name, p, _, _ in SINGLE:
        t += ["[[population]]", f'name = "{name}"', "size = 1", 'model = "izhikevich"',
              "[population.params]"] + [f"{k} = {v!r}" for k, v in p.items()]
        t += ["[population.init]", f"v_mv = {V0!r}", f"u = {U0!r}", ""]
    for k, (i, kind, ts, w, d) in enumerate(gens):
        t += ["[[population]]", f'name = "g{k}"', "size = 1", 'model = "spike_source"',
              f"spike_times = [{ts!r}]", ""]
    for k, (i, kind, ts, w, d) in enumerate(gens):
        t += ["[[projection]]", f'pre = "g{k}"', f'post = "{SINGLE[i][0]}"',
              f'receptor = "{"ampa" if kind == "exc" else "gaba_a"}"', f"weight = {w!r}",
              f"delay_ms = {d!r}", 'connect = { rule = "one_to_one" }', ""]
    t += ["[record]", 'spikes = ["rs", "fs", "ch", "ib"]', "voltage = ["]
    for name, _, _, _ in SINGLE:
        t += [f'  {{ population = "{name}", neurons = [0] }},',
              f'  {{ population = "{name}", neurons = [0], variable = "u" }},']
    t += ["]", ""]
    with open(os.path.join(OUT, "single.toml"), "w") as f:
        f.write("\n".join(t))
    print(f"single: {len(SINGLE)} neurons, {len(rows)} samples, {len(srows)} spikes")


def network_params(net):
    """Per-neuron parameters: excitatory RS-like with c, d spread (Izhikevich 2003),
    inhibitory FS-like with a, b spread; I_e on the grid."""
    n = net["n_e"] + net["n_i"]
    out = []
    for j in range(n):
        r = unit(h(10, j, 0))
        if j < net["n_e"]:
            p = {"a": 0.02, "b": 0.2, "c_mv": -65.0 + 15.0 * r * r, "d": 8.0 - 6.0 * r * r}
        else:
            p = {"a": 0.02 + 0.08 * r, "b": 0.25 - 0.05 * r, "c_mv": -65.0, "d": 2.0}
        p["i_e_pa"] = grid(3.0 + 4.0 * unit(h(11, j, 0)))
        p["v_th_mv"] = 30.0
        out.append(p)
    return out


def edges(net):
    """(pre, post, weight, delay_steps), global ids, post-major (as nest_lif_reference)."""
    n = net["n_e"] + net["n_i"]
    d = net["max_delay_steps"]
    out = []
    for j in range(n):
        for k in range(net["k_e"]):
            out.append((h(1, j, k) % net["n_e"], j,
                        grid(net["w_e"] * (0.5 + unit(h(3, j, k)))), 1 + h(2, j, k) % d))
        for k in range(net["k_i"]):
            out.append((net["n_e"] + h(4, j, k) % net["n_i"], j,
                        -grid(net["w_i"] * (0.5 + unit(h(6, j, k)))), 1 + h(5, j, k) % d))
    return out


def run_network(nest):
    net = NET
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    n = net["n_e"] + net["n_i"]
    params = network_params(net)
    pop = nest.Create("izhikevich", n)
    for j, p in enumerate(params):
        pop[j].set(nest_params(p))
    v0 = [-70.0 + 10.0 * unit(h(7, j, 0)) for j in range(n)]
    pop.set(V_m=v0, U_m=[0.2 * v for v in v0])
    e = edges(net)
    first = pop[0].global_id
    nest.Connect(np.array([x[0] for x in e]) + first, np.array([x[1] for x in e]) + first,
                 conn_spec="one_to_one",
                 syn_spec={"weight": np.array([x[2] for x in e]),
                           "delay": np.array([x[3] * DT for x in e])})
    assert nest.num_connections == len(e)
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    nest.Simulate(net["ms"])
    ev = rec.get("events")
    rows = sorted((round(t / DT), s - first) for s, t in zip(ev["senders"], ev["times"]))
    name = lambda g: ("exc", g) if g < net["n_e"] else ("inh", g - net["n_e"])
    with open(os.path.join(OUT, "network_spikes.csv"), "w") as f:
        f.write("time_ms,population,neuron\n")
        for step, g in rows:
            f.write(f"{step * DT:.1f},%s,%d\n" % name(g))
    # galvani's config: parameters and initial values per neuron, edges per population pair
    pops = {"exc": range(0, net["n_e"]), "inh": range(net["n_e"], n)}
    for pre in pops:
        for post in pops:
            with open(os.path.join(OUT, f"edges_{pre}_{post}.csv"), "w") as f:
                f.write("pre,post,weight,delay_ms\n")
                for a, b, w, d in e:
                    if a in pops[pre] and b in pops[post]:
                        f.write(f"{a - pops[pre][0]},{b - pops[post][0]},{w!r},{d * DT:.1f}\n")
    t = ["# A recurrent network of NEST `izhikevich` neurons: written by",
         "# tools/nest_izhikevich_reference.py; NEST 3.10's spikes are network_spikes.csv.",
         "[simulation]", f"dt_ms = {DT}", f"duration_ms = {net['ms']}", ""]
    for pname, r in pops.items():
        t += ["[[population]]", f'name = "{pname}"', f"size = {len(r)}", 'model = "izhikevich"',
              "[population.params]"]
        for k in ("a", "b", "c_mv", "d", "i_e_pa"):
            t.append(f"{k} = [{', '.join(repr(params[j][k]) for j in r)}]")
        t += ["[population.init]", f"v_mv = [{', '.join(repr(v0[j]) for j in r)}]",
              f"u = [{', '.join(repr(0.2 * v0[j]) for j in r)}]", ""]
    for pre in pops:
        for post in pops:
            t += ["[[projection]]", f'pre = "{pre}"', f'post = "{post}"',
                  f'receptor = "{"ampa" if pre == "exc" else "gaba_a"}"',
                  f'connect = {{ rule = "file", path = "edges_{pre}_{post}.csv" }}', ""]
    t += ["[record]", "spikes = true", ""]
    with open(os.path.join(OUT, "network.toml"), "w") as f:
        f.write("\n".join(t))
    rate = len(rows) / n / (net["ms"] / 1000.0)
    print(f"network: {n} neurons, {len(e)} synapses, {len(rows)} spikes ({rate:.2f} Hz)")


def main():
    import nest

    assert nest.__version__.startswith("3.10"), f"NEST 3.10 expected, got {nest.__version__}"
    os.makedirs(OUT, exist_ok=True)
    run_single(nest)
    run_network(nest)


if __name__ == "__main__":
    main()
