// Hodgkin-Huxley (Traub) update for engine/shaders/point_step.wgsl (spliced at
// `#model`). CPU twin: hh_update, rhs and rates in src/model/hh/mod.rs, the same
// operations in the same order (GPU exp() is not correctly rounded: close, not equal).
// Constants at consts[c..]: h, n_sub, 1/C, g_Na, g_K, g_L, E_Na, E_K, E_L, V_T, E_ex,
// E_in, 1/τ_ex, 1/τ_in, I_e, refractory steps; state at state[s..]: V, m, h, n, g_ex,
// g_in, refractory steps left.

fn hh_rhs(c: u32, y: array<f32, 6>, i_stim: f32) -> array<f32, 6> {
    let v = y[0];
    let i_na = consts[c + 3u] * y[1] * y[1] * y[1] * y[2] * (v - consts[c + 6u]);
    let i_k = consts[c + 4u] * y[3] * y[3] * y[3] * y[3] * (v - consts[c + 7u]);
    let i_l = consts[c + 5u] * (v - consts[c + 8u]);
    let i_ex = y[4] * (v - consts[c + 10u]);
    let i_in = y[5] * (v - consts[c + 11u]);
    let u = v - consts[c + 9u];
    let am = 0.32 * (13.0 - u) / (exp((13.0 - u) / 4.0) - 1.0);
    let bm = 0.28 * (u - 40.0) / (exp((u - 40.0) / 5.0) - 1.0);
    let ah = 0.128 * exp((17.0 - u) / 18.0);
    let bh = 4.0 / (1.0 + exp((40.0 - u) / 5.0));
    let an = 0.032 * (15.0 - u) / (exp((15.0 - u) / 5.0) - 1.0);
    let bn = 0.5 * exp((10.0 - u) / 40.0);
    return array<f32, 6>(
        (-i_na - i_k - i_l - i_ex - i_in + i_stim + consts[c + 14u]) * consts[c + 2u],
        am - (am + bm) * y[1],
        ah - (ah + bh) * y[2],
        an - (an + bn) * y[3],
        -y[4] * consts[c + 12u],
        -y[5] * consts[c + 13u]);
}

fn point_update(c: u32, s: u32, in_ampa: f32, in_gaba: f32, i_stim: f32) -> bool {
    var y = array<f32, 6>(state[s], state[s + 1u], state[s + 2u], state[s + 3u],
        state[s + 4u], state[s + 5u]);
    let v_old = y[0];
    let h = consts[c];
    let half = h * 0.5;
    let sixth = h / 6.0;
    for (var k = 0.0; k < consts[c + 1u]; k += 1.0) {
        let k1 = hh_rhs(c, y, i_stim);
        var y2: array<f32, 6>;
        for (var j = 0u; j < 6u; j++) { y2[j] = y[j] + half * k1[j]; }
        let k2 = hh_rhs(c, y2, i_stim);
        var y3: array<f32, 6>;
        for (var j = 0u; j < 6u; j++) { y3[j] = y[j] + half * k2[j]; }
        let k3 = hh_rhs(c, y3, i_stim);
        var y4: array<f32, 6>;
        for (var j = 0u; j < 6u; j++) { y4[j] = y[j] + h * k3[j]; }
        let k4 = hh_rhs(c, y4, i_stim);
        for (var j = 0u; j < 6u; j++) {
            y[j] = y[j] + sixth * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]);
        }
    }
    y[4] = y[4] + in_ampa;
    y[5] = y[5] + in_gaba;
    var r = state[s + 6u];
    var spiked = false;
    if r > 0.0 {
        r = r - 1.0;
    } else if y[0] >= consts[c + 9u] + 30.0 && v_old > y[0] {
        r = consts[c + 15u];
        spiked = true;
    }
    for (var j = 0u; j < 6u; j++) {
        state[s + j] = flush(y[j]);
    }
    state[s + 6u] = r;
    return spiked;
}
