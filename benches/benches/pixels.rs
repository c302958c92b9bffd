//! The TRPO paper's Atari policy (two conv layers of 16 channels, stride 2,
//! then 20 units: 33,458 parameters on 4 stacked 50×38 frames, 6 actions)
//! on a batch of 512 states: forward, gradient (forward + VJP) and
//! Fisher-vector product, per state, in `f32` and `f64` (benches/README.md,
//! section "Pixel policy").

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trustbench_policy::{
    ActionDistribution, Activation, FisherVectorProduct, Network, Policy, PolicyWorkspace,
    Precision, Rng, Surrogate,
};

const STATES: usize = 512;
const ACTIONS: usize = 6;

fn pixel_policy(c: &mut Criterion) {
    for activation in [Activation::Relu, Activation::Tanh] {
        for precision in [Precision::F32, Precision::F64] {
            let network = Network::atari(4, 50, 38, ACTIONS, activation).expect("atari shape");
            let policy = Policy::new(
                network,
                ActionDistribution::Categorical { actions: ACTIONS },
            )
            .expect("atari head")
            .with_precision(precision);
            let mut rng = Rng::new(2015);
            let params = policy.init(&mut rng);
            // Frames are grey levels in [0, 1].
            let obs: Vec<f64> = (0..policy.obs_len() * STATES)
                .map(|_| rng.uniform_in(0.0, 1.0))
                .collect();
            let mut ws = PolicyWorkspace::new();
            policy.forward(&params, &obs, STATES, &mut ws);
            let mut actions = vec![0.0; STATES];
            policy.sample(&ws, &mut rng, &mut actions);
            let advantages: Vec<f64> = (0..STATES).map(|_| rng.normal()).collect();

            let name = format!("atari_policy_{activation:?}_{precision:?}").to_lowercase();
            let mut group = c.benchmark_group(name);
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(4))
                .throughput(Throughput::Elements(STATES as u64));
            group.bench_function("forward", |b| {
                b.iter(|| black_box(policy.forward(&params, &obs, STATES, &mut ws)[0]))
            });
            let mut surrogate = Surrogate::new(
                &policy,
                &params,
                obs.clone(),
                actions,
                advantages,
                0.0,
                &mut ws,
            );
            let mut g = vec![0.0; policy.param_len()];
            group.bench_function("gradient (forward + VJP)", |b| {
                b.iter(|| black_box(surrogate.gradient(&policy, &params, &mut ws, &mut g)))
            });
            let v: Vec<f64> = g.iter().map(|x| x + 1e-3).collect();
            let mut out = vec![0.0; v.len()];
            let mut fvp = FisherVectorProduct::new(&policy, 1e-3);
            fvp.prepare(&params, &obs, STATES, None);
            group.bench_function("fvp (JVP + VJP, cached forward)", |b| {
                b.iter(|| {
                    fvp.apply(black_box(&v), &mut out);
                    black_box(out[0])
                })
            });
            group.finish();
        }
    }
}

criterion_group!(benches, pixel_policy);
criterion_main!(benches);
