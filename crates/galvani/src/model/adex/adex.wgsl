// AdEx update for engine/shaders/point_step.wgsl (spliced at `#model`). CPU twin:
// adex_update and rhs in src/model/adex/mod.rs, the same operations in the same order
// (exp() and the products are not pinned: the GPU's exp is not correctly rounded, so
// the two agree closely, not bit for bit). Constants at consts[c..] (indices as
// `mod c` there), state at state[s..]: V, w, g_ex, g_in, dg_ex, dg_in, refractory steps.

fn adex_rhs(c: u32, y: array<f32, 6>, refractory: bool, i_stim: f32) -> array<f32, 6> {
    var v = min(y[0], consts[c + 9u]);
    if refractory {
        v = consts[c + 10u];
    }
    let i_ex = y[2] * (v - consts[c + 18u]);
    let i_in = y[3] * (v - consts[c + 19u]);
    var i_spike = 0.0;
    if consts[c + 6u] != 0.0 {
        i_spike = consts[c + 4u] * consts[c + 6u] * exp((v - consts[c + 8u]) * consts[c + 7u]);
    }
    var dv = 0.0;
    if !refractory {
        dv = (-consts[c + 4u] * (v - consts[c + 5u]) + i_spike - i_ex - i_in - y[1]
            + consts[c + 15u] + i_stim) * consts[c + 3u];
    }
    let dw = (consts[c + 12u] * (v - consts[c + 5u]) - y[1]) * consts[c + 14u];
    if consts[c] != 0.0 {
        return array<f32, 6>(dv, dw, y[4] - y[2] * consts[c + 16u], y[5] - y[3] * consts[c + 17u],
            -y[4] * consts[c + 16u], -y[5] * consts[c + 17u]);
    }
    return array<f32, 6>(dv, dw, -y[2] * consts[c + 16u], -y[3] * consts[c + 17u], 0.0, 0.0);
}

// One classical RK4 step of length h (CPU twin: rk4).
fn adex_rk4(c: u32, y0: array<f32, 6>, h: f32, refractory: bool, i_stim: f32) -> array<f32, 6> {
    var y = y0;
    let half = h * 0.5;
    let sixth = h / 6.0;
    let k1 = adex_rhs(c, y, refractory, i_stim);
    var y2: array<f32, 6>;
    for (var j = 0u; j < 6u; j++) { y2[j] = y[j] + half * k1[j]; }
    let k2 = adex_rhs(c, y2, refractory, i_stim);
    var y3: array<f32, 6>;
    for (var j = 0u; j < 6u; j++) { y3[j] = y[j] + half * k2[j]; }
    let k3 = adex_rhs(c, y3, refractory, i_stim);
    var y4: array<f32, 6>;
    for (var j = 0u; j < 6u; j++) { y4[j] = y[j] + h * k3[j]; }
    let k4 = adex_rhs(c, y4, refractory, i_stim);
    for (var j = 0u; j < 6u; j++) {
        y[j] = y[j] + sixth * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]);
    }
    return y;
}

// CPU twin: adex_update (coarse intervals, fine substeps near V_T).
fn point_update(c: u32, s: u32, in_ampa: f32, in_gaba: f32, i_stim: f32) -> bool {
    var y = array<f32, 6>(state[s], state[s + 1u], state[s + 2u], state[s + 3u],
        state[s + 4u], state[s + 5u]);
    var r = state[s + 6u];
    var spiked = false;
    for (var i = 0.0; i < consts[c + 23u]; i += 1.0) {
        let fine = r <= 0.0 && y[0] > consts[c + 24u];
        var h = consts[c + 22u];
        var n = 1.0;
        if fine {
            h = consts[c + 1u];
            n = consts[c + 2u];
        }
        for (var k = 0.0; k < n; k += 1.0) {
            let refractory = r > 0.0;
            y = adex_rk4(c, y, h, refractory, i_stim);
            if refractory {
                y[0] = consts[c + 10u];
            } else if y[0] >= consts[c + 9u] {
                y[0] = consts[c + 10u];
                y[1] = y[1] + consts[c + 13u];
                r = select(0.0, consts[c + 11u] + 1.0, consts[c + 11u] > 0.0);
                spiked = true;
            }
        }
    }
    if r > 0.0 {
        r = r - 1.0;
    }
    if consts[c] != 0.0 {
        y[4] = y[4] + in_ampa * consts[c + 20u];
        y[5] = y[5] + in_gaba * consts[c + 21u];
    } else {
        y[2] = y[2] + in_ampa;
        y[3] = y[3] + in_gaba;
    }
    for (var j = 0u; j < 6u; j++) {
        state[s + j] = flush(y[j]);
    }
    state[s + 6u] = r;
    return spiked;
}
