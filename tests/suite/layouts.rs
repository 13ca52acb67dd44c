//! The compact synapse tables (src/backend/cpu/synapses.rs) and the SIMD form of the LIF
//! update: every layout holds exactly the network's synapses, and gives the same spikes
//! on the CPU (f32, f64, 1 and 2 threads) and on the GPU, also with the synapse arrays
//! split across bindings; the branch-free kernel equals the branchy one bit for bit.
//!
//! The layout is forced process-wide (`force_layout`), so the layout cases run in one
//! test function, one after another.

use galvani::backend::cpu::synapses::{CpuSynapses, force_layout};
use galvani::backend::cpu::{CpuBackend, Partition, lif_kernel_flat};
use galvani::backend::gpu::GpuContext;
use galvani::backend::gpu::limits::syn_chunk_len;
use galvani::model::lif::{LifParams, LifState, SYN_DELTA, SYN_EXP_CURRENT, lif_kernel};
use galvani::network::Network;
use galvani::real::Real;
use galvani::sim::Collect;
use rand::{Rng, SeedableRng};

/// CUBA (constant weights and delays: the palette layout by default) at `n` neurons.
fn cuba(n: usize, ms: f64) -> Network {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/cuba.toml"))
        .unwrap()
        .replace("size = 3200", &format!("size = {}", n * 4 / 5))
        .replace("size = 800", &format!("size = {}", n / 5))
        .replace("p = 0.02", &format!("p = {}", 80.0 / n as f64));
    Network::build(&crate::common::cfg(&text), Some(ms), None).unwrap()
}

/// PD14-like: per-synapse normal weights and delays, multapses, Poisson drive (the
/// packed layout by default).
fn drawn(ms: f64) -> Network {
    let pop = |name: &str, size: u32| {
        format!(
            r#"
[[population]]
name = "{name}"
size = {size}
model = "lif"
synapse = "exp_current"
[population.params]
tau_m_ms = 10.0
c_m_pf = 250.0
e_l_mv = -65.0
v_th_mv = -50.0
v_reset_mv = -65.0
t_ref_ms = 2.0
tau_ampa_ms = 0.5
tau_gaba_a_ms = 0.5
[population.init]
v_mv = {{ normal = [-58.0, 10.0] }}
"#
        )
    };
    let proj = |pre: &str, post: &str, rec: &str, w: &str, k: u32| {
        format!(
            r#"
[[projection]]
pre = "{pre}"
post = "{post}"
receptor = "{rec}"
weight = {w}
delay_ms = {{ normal = [1.5, 0.75], min = 0.1 }}
connect = {{ rule = "fixed_indegree", k = {k} }}
"#
        )
    };
    let text = format!(
        r#"
[simulation]
dt_ms = 0.1
seed = 7
duration_ms = 100.0
{}{}{}{}{}{}
[[stimulus]]
kind = "poisson"
target = "e"
rate_hz = 8000.0
weight = 87.8
receptor = "ampa"
{}
[[stimulus]]
kind = "poisson"
target = "i"
rate_hz = 8000.0
weight = 87.8
receptor = "ampa"
"#,
        pop("e", 800),
        pop("i", 200),
        proj(
            "e",
            "e",
            "ampa",
            "{ normal = [87.8, 8.78], min = 0.0 }",
            240
        ),
        proj(
            "e",
            "i",
            "ampa",
            "{ normal = [87.8, 8.78], min = 0.0 }",
            240
        ),
        proj(
            "i",
            "e",
            "gaba_a",
            "{ normal = [-351.2, 35.12], max = 0.0 }",
            60
        ),
        proj(
            "i",
            "i",
            "gaba_a",
            "{ normal = [-351.2, 35.12], max = 0.0 }",
            60
        ),
        ""
    );
    Network::build(&crate::common::cfg(&text), Some(ms), None).unwrap()
}

fn run<F: Real>(net: &Network, threads: usize) -> Collect {
    let mut c = Collect::default();
    galvani::sim::drive(
        net,
        CpuBackend::<F>::with_threads(net, threads).unwrap(),
        &mut c,
    )
    .unwrap();
    c
}

/// The table of the whole network in the current layout: its name, and a check that
/// synapse k of every row is the network's (target, weight in accumulator units, delay).
fn check_table<F: Real>(net: &Network) -> (&'static str, f64) {
    let t = CpuSynapses::<F>::build(
        net,
        &Partition {
            start: 0,
            end: net.n,
        },
    )
    .unwrap();
    let m = net.synapses.table(net.n).unwrap();
    assert_eq!(t.len(), m.target.len());
    assert_eq!(t.row_ptr, m.row_ptr);
    for k in 0..t.len() {
        let (tgt, w, d) = t.get(k);
        assert_eq!(
            (tgt, w, d),
            (
                m.target[k],
                F::acc_weight(m.weight[k], &net.fixed),
                m.delay[k]
            ),
            "synapse {k} in the {} layout",
            t.layout()
        );
    }
    (t.layout(), t.bytes() as f64 / t.len() as f64)
}

/// Runs `net` in `layout` on the CPU (f32 and f64, 1 and 2 threads) and on the GPU
/// (whole bindings, and split across 2 and 3 bindings), against the automatic layout's
/// CPU spikes.
fn same_spikes_in(
    net: &Network,
    layout: &str,
    want: &(Collect, Collect),
    gpu: Option<&GpuContext>,
) {
    force_layout(Some(layout));
    let (l32, b32) = check_table::<f32>(net);
    let (l64, b64) = check_table::<f64>(net);
    assert_eq!((l32, l64), (layout, layout), "{layout} forced");
    eprintln!("{layout}: {b32:.2} B per synapse in f32, {b64:.2} in f64");
    for threads in [1, 2] {
        assert_eq!(
            run::<f32>(net, threads).spikes,
            want.0.spikes,
            "{layout} f32 {threads}t"
        );
        assert_eq!(
            run::<f64>(net, threads).spikes,
            want.1.spikes,
            "{layout} f64 {threads}t"
        );
    }
    consuming_equals_building::<f32>(net, layout);
    consuming_equals_building::<f64>(net, layout);
    // the backend that frees the patterns while it builds (galvani run) gives the spikes
    for threads in [1, 2] {
        let mut m = net.clone();
        m.threads = Some(threads);
        let b = CpuBackend::<f32>::consuming(&mut m).unwrap();
        assert!(m.synapses.released(), "the patterns are gone");
        let mut c = Collect::default();
        galvani::sim::drive(&m, b, &mut c).unwrap();
        assert_eq!(c.spikes, want.0.spikes, "{layout} consuming {threads}t");
    }
    if let Some(ctx) = gpu {
        assert_eq!(
            crate::common::gpu32(ctx, net).spikes,
            want.0.spikes,
            "{layout} gpu"
        );
        // bindings small enough that the synapse words take 2 or 3 chunks (chunks are
        // powers of two: every such length in [words/3, words) is tried)
        let words = net.synapses.len() as u64;
        let mut tried = 0;
        for len in (10..31).map(|e| 1u64 << e) {
            let chunks = words.div_ceil(len);
            if !(2..=3).contains(&chunks) {
                continue;
            }
            let small =
                GpuContext::with_limits(|l| l.max_storage_buffer_binding_size = len * 4).unwrap();
            assert_eq!(syn_chunk_len(&small.limits()), len);
            assert_eq!(
                crate::common::gpu32(&small, net).spikes,
                want.0.spikes,
                "{layout} gpu, {chunks} chunks"
            );
            eprintln!("{layout}: GPU with {chunks} chunks of {len} synapses agrees");
            tried += 1;
        }
        assert!(tried >= 1);
    }
    force_layout(None);
}

/// The tables built from the last row to the first while the patterns are freed equal
/// the tables built from the whole network, partition by partition.
fn consuming_equals_building<F: Real>(net: &Network, layout: &str) {
    let n = net.n;
    let parts = [
        Partition {
            start: 0,
            end: n / 3,
        },
        Partition {
            start: n / 3,
            end: n,
        },
    ];
    // blocks of 97 rows: many blocks, none aligned with a population or partition
    for block in [97, 4096] {
        let mut m = net.clone();
        let got = CpuSynapses::<F>::build_consuming_in(&mut m, &parts, block, |items, f| {
            items.iter_mut().for_each(|x| f(x))
        })
        .unwrap();
        assert!(m.synapses.released());
        for (r, g) in parts.iter().zip(&got) {
            let want = CpuSynapses::<F>::build(net, r).unwrap();
            assert_eq!(g.row_ptr, want.row_ptr, "{layout} {} {block}", F::NAME);
            assert_eq!(g.word, want.word, "{layout} {} {block}", F::NAME);
            assert_eq!(g.values, want.values, "{layout} {} {block}", F::NAME);
        }
    }
}

#[test]
fn every_layout_holds_the_network_and_gives_the_same_spikes() {
    let gpu = crate::common::gpu();
    // constant weights and delays: palette (4 B per synapse), packed, wide
    let net = cuba(2000, 200.0);
    assert_eq!(check_table::<f32>(&net).0, "palette");
    let want = (run::<f32>(&net, 1), run::<f64>(&net, 1));
    assert!(want.0.spikes.len() > 500, "{}", want.0.spikes.len());
    for layout in ["palette", "packed", "wide"] {
        same_spikes_in(&net, layout, &want, gpu.as_deref());
    }
    // per-synapse weights and delays: packed (8 B per synapse in f32), wide
    let net = drawn(200.0);
    let (layout, bytes) = check_table::<f32>(&net);
    assert_eq!(layout, "packed");
    let per_row = 8.0 * (net.n + 1) as f64 / net.synapses.len() as f64;
    assert!(
        (bytes - 8.0 - per_row).abs() < 1e-9,
        "{bytes} B per synapse"
    );
    let want = (run::<f32>(&net, 1), run::<f64>(&net, 1));
    assert!(want.0.spikes.len() > 500, "{}", want.0.spikes.len());
    for layout in ["packed", "wide"] {
        same_spikes_in(&net, layout, &want, gpu.as_deref());
    }
    // a palette is impossible with drawn values: the automatic choice stands
    force_layout(Some("palette"));
    assert_eq!(check_table::<f32>(&net).0, "packed");
    force_layout(None);
}

/// [`lif_kernel_flat`] (the SIMD loop's kernel) against [`lif_kernel`] on random
/// states: refractory and not, below, at and above threshold, f32 and f64.
#[test]
fn branch_free_kernel_equals_the_branchy_one() {
    fn check<F: Real, const KIND: u32>(rng: &mut rand_chacha::ChaCha8Rng) {
        for _ in 0..20_000 {
            let mut r = |lo: f64, hi: f64| F::of(rng.random_range(lo..hi));
            let p = LifParams::<F> {
                p33: r(0.9, 1.0),
                p30: r(0.0, 0.1),
                p31_ampa: r(0.0, 0.1),
                p31_gaba: r(0.0, 0.1),
                p11_ampa: r(0.5, 1.0),
                p11_gaba: r(0.5, 1.0),
                i_e: r(-50.0, 500.0),
                theta: r(5.0, 20.0),
                reset: r(-5.0, 0.0),
                ref_steps: rng.random_range(0..30),
                kind: KIND,
                ..LifParams::default()
            };
            let mut r = |lo: f64, hi: f64| F::of(rng.random_range(lo..hi));
            let s0 = LifState::<F> {
                u: r(-10.0, 25.0),
                i_ampa: r(-100.0, 400.0),
                i_gaba: r(-400.0, 100.0),
                refrac: 0,
            };
            let (a, g, stim) = (r(0.0, 30.0), r(-30.0, 0.0), r(-10.0, 10.0));
            for refrac in [0, 1, 7] {
                let mut x = LifState { refrac, ..s0 };
                let mut y = x;
                let fx = lif_kernel::<F, KIND>(
                    &p,
                    &mut x.u,
                    &mut x.i_ampa,
                    &mut x.i_gaba,
                    &mut x.refrac,
                    &mut [F::zero(); 2],
                    a,
                    g,
                    stim,
                );
                let fy = lif_kernel_flat::<F, KIND>(&p, &mut y, a, g, stim);
                assert_eq!(fx, fy);
                assert_eq!(
                    [
                        x.u.f64().to_bits(),
                        x.i_ampa.f64().to_bits(),
                        x.i_gaba.f64().to_bits()
                    ],
                    [
                        y.u.f64().to_bits(),
                        y.i_ampa.f64().to_bits(),
                        y.i_gaba.f64().to_bits()
                    ],
                    "{p:?} {s0:?} refrac {refrac}"
                );
                assert_eq!(x.refrac, y.refrac);
            }
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    check::<f32, SYN_DELTA>(&mut rng);
    check::<f32, SYN_EXP_CURRENT>(&mut rng);
    check::<f64, SYN_DELTA>(&mut rng);
    check::<f64, SYN_EXP_CURRENT>(&mut rng);
}
