#!/usr/bin/env python3
"""NEST 3.10 reference data for galvani's `hh` model (NEST `hh_cond_exp_traub`, which
NEST integrates with GSL's adaptive RKF45 at tolerance 1e-3; galvani integrates on a
fixed grid, so the tests measure the difference).

Writes tests/data/hh_nest/:

- `driven.toml`, `driven_spikes.csv`, `driven_v.csv`: two neurons driven by I_e and by
  irregular excitatory and inhibitory spike trains, 1 s; V after every step of the first
  V_MS (repr).
- `fi.toml`, `fi_spikes.csv`: an f-I curve: FI_N neurons with I_e from 0 to FI_MAX pA,
  1 s.

Every neuron starts at V = E_L with m, h, n at their equilibrium for V − V_T (galvani's
default; NEST's own default puts them at equilibrium for the raw V, so the script sets
them explicitly).

Run with the peers' venv (`bash ../shared/peers/setup.sh`):
    ../shared/peers/.venv/bin/python tools/nest_hh_reference.py
"""

import math
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "hh_nest")
DT = 0.1
M64 = (1 << 64) - 1
MS = 1000.0
V_MS = 200.0
FI_N, FI_MAX = 21, 1000.0


def splitmix(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def h(tag, i, k):
    return splitmix((tag << 40) | (i << 20) | k)


def gates(v, v_t):
    """m, h, n at equilibrium for u = V − V_T (Traub's rates, as galvani's `rates`)."""
    u = v - v_t
    am = 0.32 * (13.0 - u) / (math.exp((13.0 - u) / 4.0) - 1.0)
    bm = 0.28 * (u - 40.0) / (math.exp((u - 40.0) / 5.0) - 1.0)
    ah = 0.128 * math.exp((17.0 - u) / 18.0)
    bh = 4.0 / (1.0 + math.exp((40.0 - u) / 5.0))
    an = 0.032 * (15.0 - u) / (math.exp((15.0 - u) / 5.0) - 1.0)
    bn = 0.5 * math.exp((10.0 - u) / 40.0)
    return am / (am + bm), ah / (ah + bh), an / (an + bn)


DRIVEN = [
    {"i_e_pa": 300.0},
    {"i_e_pa": 0.0, "e_l_mv": -65.0, "v_t_mv": -58.0, "tau_ampa_ms": 0.5,
     "tau_gaba_a_ms": 4.0, "t_ref_ms": 3.0},
]
DRIVEN_INPUT = [((600, 4.0, 1.0), (300, 8.0, 1.5)), ((2000, 10.0, 0.5), (400, 20.0, 1.0))]
DEFAULTS = {"c_m_pf": 200.0, "g_na_ns": 20000.0, "g_k_ns": 6000.0, "g_l_ns": 10.0,
            "e_na_mv": 50.0, "e_k_mv": -90.0, "e_l_mv": -60.0, "v_t_mv": -63.0,
            "t_ref_ms": 2.0, "i_e_pa": 0.0, "tau_ampa_ms": 5.0, "tau_gaba_a_ms": 10.0,
            "e_ampa_mv": 0.0, "e_gaba_a_mv": -80.0}


def nest_params(p):
    return {"C_m": p["c_m_pf"], "g_Na": p["g_na_ns"], "g_K": p["g_k_ns"], "g_L": p["g_l_ns"],
            "E_Na": p["e_na_mv"], "E_K": p["e_k_mv"], "E_L": p["e_l_mv"], "V_T": p["v_t_mv"],
            "t_ref": p["t_ref_ms"], "I_e": p["i_e_pa"], "tau_syn_ex": p["tau_ampa_ms"],
            "tau_syn_in": p["tau_gaba_a_ms"], "E_ex": p["e_ampa_mv"], "E_in": p["e_gaba_a_mv"]}


def create(nest, p):
    nrn = nest.Create("hh_cond_exp_traub", params=nest_params(p))
    m, hh, n = gates(p["e_l_mv"], p["v_t_mv"])
    nrn.set(V_m=p["e_l_mv"], Act_m=m, Inact_h=hh, Act_n=n)
    return nrn


def write_spikes(path, rows, names):
    with open(path, "w") as f:
        f.write("time_ms,population,neuron\n")
        for step, i in rows:
            f.write(f"{step * DT:.1f},{names[i]},0\n")


def record_spikes(nest, neurons):
    rec = nest.Create("spike_recorder")
    for nrn in neurons:
        nest.Connect(nrn, rec)
    return rec


def rows_of(rec, neurons):
    index = {nrn.global_id: k for k, nrn in enumerate(neurons)}
    ev = rec.get("events")
    return sorted((round(x / DT), index[s]) for s, x in zip(ev["senders"], ev["times"]))


def head(what, spikes):
    return [f"# {what}: written by tools/nest_hh_reference.py; NEST 3.10's spikes are",
            f"# {spikes}.", "[simulation]", f"dt_ms = {DT}", f"duration_ms = {MS}", ""]


def run_driven(nest):
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    neurons, gens = [], []
    t = head("Driven NEST hh_cond_exp_traub neurons", "driven_spikes.csv (V: driven_v.csv)")
    for i, extra in enumerate(DRIVEN):
        p = {**DEFAULTS, **extra}
        neurons.append(create(nest, p))
        for tag, (count, w, d), sign, rec in ((8, DRIVEN_INPUT[i][0], 1, "ampa"),
                                              (9, DRIVEN_INPUT[i][1], -1, "gaba_a")):
            steps = int(round(MS / DT))
            ts = sorted({1 + h(tag, i, k) % (steps - 1) for k in range(count)})
            times = [k * DT for k in ts]
            g = nest.Create("spike_generator", params={"spike_times": times})
            nest.Connect(g, neurons[-1], syn_spec={"weight": sign * w, "delay": d})
            gens.append((i, rec, times, w, d))
        t += ["[[population]]", f'name = "n{i}"', "size = 1", 'model = "hh"',
              "[population.params]"] + [f"{k} = {v!r}" for k, v in extra.items()] + [""]
    for k, (i, rec, times, w, d) in enumerate(gens):
        t += ["[[population]]", f'name = "g{k}"', "size = 1", 'model = "spike_source"',
              f"spike_times = [{times!r}]", ""]
    for k, (i, rec, times, w, d) in enumerate(gens):
        t += ["[[projection]]", f'pre = "g{k}"', f'post = "n{i}"', f'receptor = "{rec}"',
              f"weight = {w!r}", f"delay_ms = {d!r}", 'connect = { rule = "one_to_one" }', ""]
    t += ["[record]", 'spikes = ["n0", "n1"]', "voltage = ["]
    t += [f'  {{ population = "n{i}", neurons = [0] }},' for i in range(len(DRIVEN))]
    t += ["]", ""]
    with open(os.path.join(OUT, "driven.toml"), "w") as f:
        f.write("\n".join(t))
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT, "stop": V_MS})
    for nrn in neurons:
        nest.Connect(mm, nrn)
    rec = record_spikes(nest, neurons)
    nest.Simulate(MS)
    index = {nrn.global_id: k for k, nrn in enumerate(neurons)}
    ev = mm.get("events")
    vrows = sorted((round(x / DT), index[s], v) for s, x, v in
                   zip(ev["senders"], ev["times"], ev["V_m"]))
    with open(os.path.join(OUT, "driven_v.csv"), "w") as f:
        f.write("time_ms,neuron,v_mv\n")
        for step, i, v in vrows:
            f.write(f"{step * DT:.1f},{i},{float(v)!r}\n")
    rows = rows_of(rec, neurons)
    write_spikes(os.path.join(OUT, "driven_spikes.csv"), rows, ["n0", "n1"])
    print(f"driven: {len(rows)} spikes")


def run_fi(nest):
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    currents = [FI_MAX * k / (FI_N - 1) for k in range(FI_N)]
    neurons = [create(nest, {**DEFAULTS, "i_e_pa": i}) for i in currents]
    rec = record_spikes(nest, neurons)
    nest.Simulate(MS)
    rows = rows_of(rec, neurons)
    write_spikes(os.path.join(OUT, "fi_spikes.csv"), rows, [f"i{k}" for k in range(FI_N)])
    t = head(f"f-I curve of NEST hh_cond_exp_traub (I_e 0 to {FI_MAX} pA)", "fi_spikes.csv")
    for k, i in enumerate(currents):
        t += ["[[population]]", f'name = "i{k}"', "size = 1", 'model = "hh"',
              "[population.params]", f"i_e_pa = {i!r}", ""]
    t += ["[record]", "spikes = true", ""]
    with open(os.path.join(OUT, "fi.toml"), "w") as f:
        f.write("\n".join(t))
    counts = [sum(1 for r in rows if r[1] == k) for k in range(FI_N)]
    print("f-I:", list(zip(currents, counts)))


def main():
    import nest

    assert nest.__version__.startswith("3.10"), f"NEST 3.10 expected, got {nest.__version__}"
    os.makedirs(OUT, exist_ok=True)
    run_driven(nest)
    run_fi(nest)


if __name__ == "__main__":
    main()
