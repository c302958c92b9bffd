//! Policy math at TRPO's scale: forward, gradient, Fisher-vector product and
//! 10 CG iterations on a batch of 50,000 states for a 64×64 tanh MLP with 11
//! inputs and a 3-dimensional Gaussian head (the bench of benches/README.md,
//! section "Policy math"). Target: one FVP ≤ 1.5× one gradient.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use trustbench_policy::{
    Activation, CgScratch, FisherVectorProduct, Policy, PolicyWorkspace, Rng, Surrogate,
    conjugate_gradient, subsample,
};

const STATES: usize = 50_000;
const OBS: usize = 11;

struct Setup {
    policy: Policy,
    params: Vec<f64>,
    obs: Vec<f64>,
    actions: Vec<f64>,
    advantages: Vec<f64>,
}

fn setup() -> Setup {
    let policy = Policy::gaussian_mlp(OBS, &[64, 64], 3, Activation::Tanh).expect("policy shape");
    let mut rng = Rng::new(2015);
    let params = policy.init(&mut rng);
    let obs: Vec<f64> = (0..OBS * STATES).map(|_| rng.normal()).collect();
    let mut ws = PolicyWorkspace::new();
    policy.forward(&params, &obs, STATES, &mut ws);
    let mut actions = vec![0.0; 3 * STATES];
    policy.sample(&ws, &mut rng, &mut actions);
    let advantages = (0..STATES).map(|_| rng.normal()).collect();
    Setup {
        policy,
        params,
        obs,
        actions,
        advantages,
    }
}

fn policy_math(c: &mut Criterion) {
    let s = setup();
    let p = s.policy.param_len();
    let mut group = c.benchmark_group("policy_50k_states_64x64_tanh");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));

    let mut ws = PolicyWorkspace::new();
    group.bench_function("forward", |b| {
        b.iter(|| black_box(s.policy.forward(&s.params, &s.obs, STATES, &mut ws)[0]))
    });

    let mut surrogate = Surrogate::new(
        &s.policy,
        &s.params,
        s.obs.clone(),
        s.actions.clone(),
        s.advantages.clone(),
        0.0,
        &mut ws,
    );
    let mut g = vec![0.0; p];
    group.bench_function("gradient (forward + VJP)", |b| {
        b.iter(|| black_box(surrogate.gradient(&s.policy, &s.params, &mut ws, &mut g)))
    });

    let v: Vec<f64> = g.iter().map(|x| x + 1e-3).collect();
    let mut out = vec![0.0; p];
    let mut fvp = FisherVectorProduct::new(&s.policy, 1e-3);
    fvp.prepare(&s.params, &s.obs, STATES, None);
    group.bench_function("fvp (JVP + VJP, cached forward)", |b| {
        b.iter(|| {
            fvp.apply(black_box(&v), &mut out);
            black_box(out[0])
        })
    });

    let mut x = vec![0.0; p];
    let mut scratch = CgScratch::new(p, 10);
    group.bench_function("cg 10 iterations", |b| {
        b.iter(|| {
            conjugate_gradient(
                |v, o| fvp.apply(v, o),
                &g,
                &mut x,
                10,
                0.0,
                &mut scratch,
                |_| {},
            )
        })
    });

    let subset = subsample(STATES, 0.1, &mut Rng::new(1));
    let mut fvp_subset = FisherVectorProduct::new(&s.policy, 1e-3);
    group.bench_function("fvp prepare on 10% subset", |b| {
        b.iter(|| fvp_subset.prepare(&s.params, &s.obs, STATES, Some(&subset)))
    });
    group.bench_function("cg 10 iterations on 10% subset", |b| {
        b.iter(|| {
            conjugate_gradient(
                |v, o| fvp_subset.apply(v, o),
                &g,
                &mut x,
                10,
                0.0,
                &mut scratch,
                |_| {},
            )
        })
    });
    group.finish();
}

criterion_group!(benches, policy_math);
criterion_main!(benches);
