// Izhikevich update for engine/shaders/point_step.wgsl (spliced at `#model`). CPU twin:
// izhikevich_update in src/model/izhikevich/mod.rs, the same operations in the same
// order; every product and partial sum goes through pin() (shared/types.wgsl) so the
// driver rounds exactly there. Constants at consts[c..]: h, h·a, b, c, d, V_th, V_min,
// I_e; state at state[s..]: V, u.
fn point_update(c: u32, s: u32, in_ampa: f32, in_gaba: f32, i_stim: f32) -> bool {
    let v_old = state[s];
    let u_old = state[s + 1u];
    // drive = 0.04·v·v + 5·v + 140 − u + I + I_e (left to right)
    let q = pin(pin(0.04 * v_old) * v_old);
    let l = pin(5.0 * v_old);
    let drive = pin(pin(pin(pin(pin(q + l) + 140.0) - u_old) + i_stim) + consts[c + 7u]);
    // v = v_old + (h·drive + (in_ampa + in_gaba))
    var v = pin(v_old + pin(pin(consts[c] * drive) + pin(in_ampa + in_gaba)));
    // u = u_old + h·a·(b·v_old − u_old)
    var u = pin(u_old + pin(consts[c + 1u] * pin(pin(consts[c + 2u] * v_old) - u_old)));
    if v < consts[c + 6u] {
        v = consts[c + 6u];
    }
    let spike = v >= consts[c + 5u];
    if spike {
        v = consts[c + 3u];
        u = pin(u + consts[c + 4u]);
    }
    state[s] = flush(v);
    state[s + 1u] = flush(u);
    return spike;
}
