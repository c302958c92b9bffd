//! Agent steps per CPU-second of the arcade games, compact and pixel views.
//!
//! One env through `VecEnv` (autoreset included), uniform random actions,
//! default settings (frame skip 4, sticky actions 0.25; pixels: grayscale,
//! 84 × 84, max over two frames, stack of 4), single thread, timed with the
//! thread's CPU clock: criterion's "thrpt" is agent steps per CPU-second.
//! Figures and the machine are in `benches/README.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use trustbench_benches::thread_time;
use trustbench_envs::{EnvConfig, Rng, Space, VecEnv, resolve_spec};

const GAMES: [&str; 7] = [
    "beamrider-v1",
    "breakout-v1",
    "enduro-v2",
    "pong-v1",
    "qbert-v1",
    "seaquest-v1",
    "spaceinvaders-v1",
];

fn steps_per_cpu_second(c: &mut Criterion, view: &str, steps: u64) {
    let mut group = c.benchmark_group(format!("arcade_{view}"));
    group.throughput(Throughput::Elements(steps));
    group.sample_size(10);
    for id in GAMES {
        let options = [("view".to_string(), view.to_string())];
        let config = EnvConfig::new(resolve_spec(id).unwrap(), &options).unwrap();
        let mut envs = VecEnv::new(&config, 1, 0, 0);
        let Space::Discrete { n } = *envs.action_space() else {
            unreachable!("arcade actions are discrete")
        };
        let mut obs = vec![0.0; envs.observation_space().dim()];
        let mut rng = Rng::new(1);
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let start = thread_time();
                for _ in 0..iters {
                    let mut total = 0.0;
                    for _ in 0..steps {
                        let action = [rng.below(n as u64) as f64];
                        total += envs.step(0, &action, &mut obs, None).reward;
                    }
                    black_box((total, obs[0]));
                }
                thread_time() - start
            })
        });
    }
    group.finish();
}

fn compact(c: &mut Criterion) {
    steps_per_cpu_second(c, "compact", 100_000);
}

fn pixels(c: &mut Criterion) {
    steps_per_cpu_second(c, "pixels", 2_000);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = compact, pixels
}
criterion_main!(benches);
