//! Env steps per CPU-second of the locomotion tasks, and the speed-up of N
//! env copies on two threads.
//!
//! - `locomotion_cpu/<id>`: one copy through `VecEnv`, uniform random
//!   actions, autoreset (so resets are included), single thread. Time is the
//!   thread's *CPU* time (`CLOCK_THREAD_CPUTIME_ID` on Linux, wall clock
//!   elsewhere), so the figure is env steps per CPU-second even on a busy
//!   machine; criterion's "thrpt" is that rate.
//! - `locomotion_threads/<id>-8-copies/<n>-threads`: 8 copies stepped on one
//!   thread, or split 4 + 4 over two (`std::thread::scope`), wall clock: the
//!   ratio of the two throughputs is the speed-up on two cores. Each
//!   measured iteration steps every copy 1,000 times (≈ 35–200 ms), so
//!   spawning and joining the two threads (tens of µs) and the difference
//!   between the halves' reset counts stay small next to the work.
//!
//! Figures and the machine are in `benches/README.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use trustbench_benches::thread_time;
use trustbench_envs::{Rng, VecEnv, resolve};

const TASKS: [&str; 4] = ["swimmer-v0", "hopper-v0", "walker-v0", "ant-v0"];
/// Env steps per measured iteration.
const STEPS: u64 = 1000;

/// Step every copy of `envs` `steps` times with random actions; the sum of
/// rewards, so that nothing is optimised away.
fn random_steps(envs: &mut VecEnv, rng: &mut Rng, steps: u64) -> f64 {
    let mut obs = vec![0.0; envs.observation_space().dim()];
    let mut action = vec![0.0; envs.action_space().dim()];
    let mut total = 0.0;
    for _ in 0..steps {
        for i in 0..envs.len() {
            action
                .iter_mut()
                .for_each(|a| *a = rng.uniform_in(-1.0, 1.0));
            total += envs.step(i, &action, &mut obs, None).reward;
        }
    }
    total
}

fn cpu_per_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("locomotion_cpu");
    group.throughput(Throughput::Elements(STEPS));
    group.sample_size(10);
    for id in TASKS {
        let spec = resolve(id).unwrap();
        let mut envs = VecEnv::new(&spec, 1, 0, 0);
        let mut rng = Rng::new(1);
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let start = thread_time();
                for _ in 0..iters {
                    black_box(random_steps(&mut envs, &mut rng, STEPS));
                }
                thread_time() - start
            })
        });
    }
    group.finish();
}

fn two_threads(c: &mut Criterion) {
    const COPIES: usize = 8;
    const STEPS_PER_COPY: u64 = 1000;
    let mut group = c.benchmark_group("locomotion_threads");
    group.throughput(Throughput::Elements(COPIES as u64 * STEPS_PER_COPY));
    group.sample_size(10);
    for id in ["hopper-v0", "walker-v0"] {
        let spec = resolve(id).unwrap();
        let mut one = VecEnv::new(&spec, COPIES, 0, 0);
        group.bench_function(format!("{id}-{COPIES}-copies/1-thread"), |b| {
            let mut rng = Rng::new(1);
            b.iter(|| black_box(random_steps(&mut one, &mut rng, STEPS_PER_COPY)))
        });
        let mut halves = [
            VecEnv::new(&spec, COPIES / 2, 0, 0),
            VecEnv::new(&spec, COPIES / 2, 0, 1),
        ];
        group.bench_function(format!("{id}-{COPIES}-copies/2-threads"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for k in 0..iters {
                    std::thread::scope(|s| {
                        for (h, envs) in halves.iter_mut().enumerate() {
                            s.spawn(move || {
                                let mut rng = Rng::new(k * 2 + h as u64);
                                black_box(random_steps(envs, &mut rng, STEPS_PER_COPY))
                            });
                        }
                    });
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = cpu_per_step, two_threads
}
criterion_main!(benches);
