//! Env steps per second of the classic-control tasks through `VecEnv`
//! (single thread, fixed action pattern, autoreset included).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use trustbench_envs::{VecEnv, resolve};

const STEPS: u64 = 10_000;

fn step_envs(c: &mut Criterion) {
    let mut group = c.benchmark_group("env_step");
    group.throughput(Throughput::Elements(STEPS));
    for id in ["cartpole", "pendulum"] {
        let spec = resolve(id).unwrap();
        let mut envs = VecEnv::new(&spec, 1, 0, 0);
        let mut obs = vec![0.0; envs.observation_space().dim()];
        group.bench_function(spec.id(), |b| {
            b.iter(|| {
                let mut total = 0.0;
                for t in 0..STEPS {
                    let action = [(t % 2) as f64];
                    total += envs.step(0, &action, &mut obs, None).reward;
                }
                black_box(total)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, step_envs);
criterion_main!(benches);
