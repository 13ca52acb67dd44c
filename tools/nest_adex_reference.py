#!/usr/bin/env python3
"""NEST 3.10 reference data for galvani's `adex` model (NEST `aeif_cond_exp` and
`aeif_cond_alpha`, which NEST integrates with GSL's adaptive RKF45; galvani integrates
on a fixed grid, so the tests measure the difference).

Writes tests/data/adex_nest/:

- `patterns.toml`, `patterns_spikes.csv`: the firing patterns of Naud et al. (2008,
  Table 1: tonic, adapting, initial burst, regular bursting, delayed accelerating,
  delayed regular bursting, transient, irregular), one `aeif_cond_exp` neuron each,
  driven by a current step from 50 ms, 1 s.
- `driven_<kind>.toml`, `driven_<kind>_spikes.csv`, `driven_<kind>_v.csv`: two neurons
  per synapse kind (`exp_conductance`, `alpha_conductance`) driven by I_e and by
  irregular excitatory and inhibitory spike trains, 1 s; V after every step of the first
  DRIVEN_V_MS (repr).

Run with the peers' venv (`bash ../shared/peers/setup.sh`):
    ../shared/peers/.venv/bin/python tools/nest_adex_reference.py
"""

import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "adex_nest")
DT = 0.1
M64 = (1 << 64) - 1
MS = 1000.0
DRIVEN_V_MS = 300.0


def splitmix(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def h(tag, i, k):
    return splitmix((tag << 40) | (i << 20) | k)


# Naud et al. (2008) Table 1: C (pF), g_L (nS), E_L, V_T (mV), Delta_T (mV), a (nS),
# tau_w (ms), b (pA), V_r (mV), I (pA)
PATTERNS = [
    ("tonic", 200, 10, -70, -50, 2, 2, 30, 0, -58, 500),
    ("adapting", 200, 12, -70, -50, 2, 2, 300, 60, -58, 500),
    ("initial_burst", 130, 18, -58, -50, 2, 4, 150, 120, -50, 400),
    ("bursting", 200, 10, -58, -50, 2, 2, 120, 100, -46, 210),
    ("delayed_accelerating", 200, 12, -70, -50, 2, -10, 300, 0, -58, 300),
    ("delayed_bursting", 100, 10, -65, -50, 2, -10, 90, 30, -47, 110),
    ("transient", 100, 10, -65, -50, 2, 10, 90, 100, -47, 180),
    ("irregular", 100, 12, -60, -50, 2, -11, 130, 30, -48, 160),
]
STEP_ON_MS = 50.0

DRIVEN = [
    {"c_m_pf": 281.0, "g_l_ns": 30.0, "e_l_mv": -70.6, "delta_t_mv": 2.0, "v_t_mv": -50.4,
     "v_peak_mv": 0.0, "v_reset_mv": -60.0, "t_ref_ms": 0.0, "a_ns": 4.0, "b_pa": 80.5,
     "tau_w_ms": 144.0, "i_e_pa": 700.0, "tau_ampa_ms": 0.2, "tau_gaba_a_ms": 2.0,
     "e_ampa_mv": 0.0, "e_gaba_a_mv": -85.0},
    {"c_m_pf": 200.0, "g_l_ns": 10.0, "e_l_mv": -65.0, "delta_t_mv": 1.5, "v_t_mv": -52.0,
     "v_peak_mv": 10.0, "v_reset_mv": -55.0, "t_ref_ms": 2.0, "a_ns": 1.0, "b_pa": 40.0,
     "tau_w_ms": 100.0, "i_e_pa": 220.0, "tau_ampa_ms": 1.5, "tau_gaba_a_ms": 5.0,
     "e_ampa_mv": 0.0, "e_gaba_a_mv": -80.0},
]
# (count, weight nS, delay ms) of the excitatory and inhibitory input per neuron
DRIVEN_INPUT = [((800, 6.0, 1.0), (300, 10.0, 1.5)), ((400, 3.0, 0.5), (200, 4.0, 1.0))]


def nest_params(p):
    return {"C_m": p["c_m_pf"], "g_L": p["g_l_ns"], "E_L": p["e_l_mv"],
            "Delta_T": p["delta_t_mv"], "V_th": p["v_t_mv"], "V_peak": p["v_peak_mv"],
            "V_reset": p["v_reset_mv"], "t_ref": p["t_ref_ms"], "a": p["a_ns"],
            "b": p["b_pa"], "tau_w": p["tau_w_ms"], "I_e": p["i_e_pa"],
            "tau_syn_ex": p["tau_ampa_ms"], "tau_syn_in": p["tau_gaba_a_ms"],
            "E_ex": p["e_ampa_mv"], "E_in": p["e_gaba_a_mv"]}


def write_spikes(path, rows, names):
    with open(path, "w") as f:
        f.write("time_ms,population,neuron\n")
        for step, i in rows:
            f.write(f"{step * DT:.1f},{names[i]},0\n")


def toml_head(what, spikes):
    return [f"# {what}: written by tools/nest_adex_reference.py; NEST 3.10's spikes are",
            f"# {spikes}.", "[simulation]", f"dt_ms = {DT}", f"duration_ms = {MS}", ""]


def run_patterns(nest):
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    neurons, t = [], toml_head("Naud et al. (2008) firing patterns, NEST aeif_cond_exp",
                               "patterns_spikes.csv")
    for name, c, gl, el, vt, dT, a, tw, b, vr, i in PATTERNS:
        p = {"c_m_pf": c, "g_l_ns": gl, "e_l_mv": el, "v_t_mv": vt, "delta_t_mv": dT,
             "a_ns": a, "tau_w_ms": tw, "b_pa": b, "v_reset_mv": vr, "v_peak_mv": 0.0,
             "t_ref_ms": 0.0}
        nrn = nest.Create("aeif_cond_exp", params={**{k: v for k, v in nest_params(
            {**DRIVEN[0], **p, "i_e_pa": 0.0}).items()}})
        nrn.set(V_m=float(el), w=0.0)
        gen = nest.Create("step_current_generator",
                          params={"amplitude_times": [STEP_ON_MS], "amplitude_values": [float(i)]})
        # delay one step: the current acts from the step galvani starts it (times_ms)
        nest.Connect(gen, nrn, syn_spec={"delay": DT})
        neurons.append(nrn)
        t += ["[[population]]", f'name = "{name}"', "size = 1", 'model = "adex"',
              "[population.params]"] + [f"{k} = {float(v)!r}" for k, v in p.items()]
        t += ["[population.init]", f"v_mv = {float(el)!r}", ""]
        t += ["[[stimulus]]", 'kind = "step_current"', f'target = "{name}"',
              f"times_ms = [{STEP_ON_MS}]", f"amplitudes_pa = [{float(i)!r}]", ""]
    rec = nest.Create("spike_recorder")
    for nrn in neurons:
        nest.Connect(nrn, rec)
    nest.Simulate(MS)
    index = {nrn.global_id: k for k, nrn in enumerate(neurons)}
    ev = rec.get("events")
    rows = sorted((round(x / DT), index[s]) for s, x in zip(ev["senders"], ev["times"]))
    write_spikes(os.path.join(OUT, "patterns_spikes.csv"), rows, [p[0] for p in PATTERNS])
    t += ["[record]", "spikes = true", ""]
    with open(os.path.join(OUT, "patterns.toml"), "w") as f:
        f.write("\n".join(t))
    print("patterns:", {PATTERNS[k][0]: sum(1 for r in rows if r[1] == k) for k in range(len(PATTERNS))})


def run_driven(nest, kind, model):
    nest.ResetKernel()
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    neurons, gens = [], []
    t = toml_head(f"Driven NEST {model} neurons", f"driven_{kind}_spikes.csv (V: driven_{kind}_v.csv)")
    for i, p in enumerate(DRIVEN):
        nrn = nest.Create(model, params=nest_params(p))
        nrn.set(V_m=p["e_l_mv"], w=0.0)
        neurons.append(nrn)
        for tag, (count, w, d), sign, rec in ((8, DRIVEN_INPUT[i][0], 1, "ampa"),
                                              (9, DRIVEN_INPUT[i][1], -1, "gaba_a")):
            steps = int(round(MS / DT))
            ts = sorted({1 + h(tag, i, k) % (steps - 1) for k in range(count)})
            times = [k * DT for k in ts]
            g = nest.Create("spike_generator", params={"spike_times": times})
            nest.Connect(g, nrn, syn_spec={"weight": sign * w, "delay": d})
            gens.append((i, rec, times, w, d))
        t += ["[[population]]", f'name = "n{i}"', "size = 1", 'model = "adex"',
              f'synapse = "{kind}"', "[population.params]"]
        t += [f"{k} = {v!r}" for k, v in p.items()]
        t += ["[population.init]", f"v_mv = {p['e_l_mv']!r}", ""]
    for k, (i, rec, times, w, d) in enumerate(gens):
        t += ["[[population]]", f'name = "g{k}"', "size = 1", 'model = "spike_source"',
              f"spike_times = [{times!r}]", ""]
    for k, (i, rec, times, w, d) in enumerate(gens):
        t += ["[[projection]]", f'pre = "g{k}"', f'post = "n{i}"', f'receptor = "{rec}"',
              f"weight = {w!r}", f"delay_ms = {d!r}", 'connect = { rule = "one_to_one" }', ""]
    t += ["[record]", 'spikes = ["n0", "n1"]', "voltage = ["]
    t += [f'  {{ population = "n{i}", neurons = [0] }},' for i in range(len(DRIVEN))]
    t += ["]", ""]
    with open(os.path.join(OUT, f"driven_{kind}.toml"), "w") as f:
        f.write("\n".join(t))
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT,
                                           "stop": DRIVEN_V_MS})
    rec = nest.Create("spike_recorder")
    for nrn in neurons:
        nest.Connect(mm, nrn)
        nest.Connect(nrn, rec)
    nest.Simulate(MS)
    index = {nrn.global_id: k for k, nrn in enumerate(neurons)}
    ev = mm.get("events")
    vrows = sorted((round(x / DT), index[s], v) for s, x, v in
                   zip(ev["senders"], ev["times"], ev["V_m"]))
    with open(os.path.join(OUT, f"driven_{kind}_v.csv"), "w") as f:
        f.write("time_ms,neuron,v_mv\n")
        for step, i, v in vrows:
            f.write(f"{step * DT:.1f},{i},{float(v)!r}\n")
    ev = rec.get("events")
    rows = sorted((round(x / DT), index[s]) for s, x in zip(ev["senders"], ev["times"]))
    write_spikes(os.path.join(OUT, f"driven_{kind}_spikes.csv"), rows, ["n0", "n1"])
    print(f"driven {kind}: {len(rows)} spikes")


def main():
    import nest

    assert nest.__version__.startswith("3.10"), f"NEST 3.10 expected, got {nest.__version__}"
    os.makedirs(OUT, exist_ok=True)
    run_patterns(nest)
    run_driven(nest, "exp_conductance", "aeif_cond_exp")
    run_driven(nest, "alpha_conductance", "aeif_cond_alpha")


if __name__ == "__main__":
    main()
