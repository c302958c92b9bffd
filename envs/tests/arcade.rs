//! The arcade suite's ALE conventions, across all seven games: determinism,
//! snapshots, sticky actions, frame skip, truncation, observations, and
//! that each game's scripted policy beats random. (Each game's scoring rules
//! are tested in its own module.)

use trustbench_envs::arcade::{Action, Arcade, Breakout, GAMES, Game, Preprocess, Settings, View};
use trustbench_envs::{Env, EnvConfig, Rng, resolve, resolve_spec};

fn env(id: &str, options: &[(&str, &str)]) -> Box<dyn Env> {
    let options: Vec<(String, String)> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    EnvConfig::new(resolve_spec(id).unwrap(), &options)
        .unwrap()
        .make()
}

fn n_actions(env: &dyn Env) -> u64 {
    match env.action_space() {
        trustbench_envs::Space::Discrete { n } => *n as u64,
        other => panic!("arcade envs have discrete actions, not {other:?}"),
    }
}

/// Rewards, episode ends and an observation checksum of `steps` random
/// steps (autoreset), seeded with `seed`.
fn trace(env: &mut dyn Env, seed: u64, steps: usize) -> Vec<f64> {
    let mut obs = vec![0.0; env.observation_space().dim()];
    let mut rng = Rng::new(seed ^ 0xA5A5);
    env.reset(Some(seed), &mut obs);
    let n = n_actions(env);
    let mut out = Vec::new();
    for _ in 0..steps {
        let s = env.step(&[rng.below(n) as f64], &mut obs);
        let checksum: f64 = obs
            .iter()
            .enumerate()
            .map(|(i, v)| v * (i % 97) as f64)
            .sum();
        out.extend([s.reward, s.terminated as u8 as f64, checksum]);
        if s.done() {
            env.reset(None, &mut obs);
        }
    }
    out
}

#[test]
fn same_seed_same_trajectory_and_seeds_differ() {
    for game in GAMES {
        let a = trace(env(game, &[]).as_mut(), 7, 1500);
        let b = trace(env(game, &[]).as_mut(), 7, 1500);
        assert_eq!(a, b, "{game}");
        let c = trace(env(game, &[]).as_mut(), 8, 1500);
        assert_ne!(a, c, "{game}: another seed, another trajectory");
    }
    let pixels = [("view", "pixels")];
    assert_eq!(
        trace(env("breakout", &pixels).as_mut(), 3, 200),
        trace(env("breakout", &pixels).as_mut(), 3, 200)
    );
}

#[test]
fn a_clone_is_an_exact_snapshot() {
    for (game, options) in [
        ("seaquest", vec![]),
        ("qbert", vec![]),
        ("pong", vec![("view", "pixels")]),
    ] {
        let mut e = env(game, &options);
        let dim = e.observation_space().dim();
        let mut obs = vec![0.0; dim];
        let mut rng = Rng::new(1);
        e.reset(Some(11), &mut obs);
        for _ in 0..300 {
            e.step(&[rng.below(n_actions(e.as_ref())) as f64], &mut obs);
        }
        let snapshot = e.boxed_clone();
        let play = |e: &mut dyn Env| {
            let mut rng = Rng::new(2);
            let mut obs = vec![0.0; dim];
            (0..400)
                .flat_map(|_| {
                    let s = e.step(&[rng.below(n_actions(e)) as f64], &mut obs);
                    let mut row = obs.clone();
                    row.push(s.reward);
                    if s.done() {
                        e.reset(None, &mut obs);
                    }
                    row
                })
                .collect::<Vec<f64>>()
        };
        let first = play(e.as_mut());
        let second = play(snapshot.boxed_clone().as_mut());
        assert!(first == second, "{game}: the snapshot replays bit for bit");
    }
}

#[test]
fn sticky_actions_repeat_the_executed_action_with_probability_p() {
    for p in [0.25, 0.6] {
        let mut e = Arcade::<Breakout>::new(Settings {
            sticky: p,
            frame_skip: 1,
            ..Settings::default()
        });
        let mut obs = vec![0.0; e.observation_space().dim()];
        e.reset(Some(5), &mut obs);
        let (left, right) = (e.index_of(Action::LEFT), e.index_of(Action::RIGHT));
        let (mut repeats, mut changes) = (0u32, 0u32);
        for t in 0..40_000 {
            let chosen = if t % 2 == 0 {
                Action::LEFT
            } else {
                Action::RIGHT
            };
            let before = e.executed();
            e.step(
                &[(if chosen == Action::LEFT { left } else { right }) as f64],
                &mut obs,
            );
            if before != chosen {
                changes += 1;
                repeats += u32::from(e.executed() == before);
            }
        }
        let rate = repeats as f64 / changes as f64;
        // Binomial standard error ≈ √(p(1−p)/n) ≈ 0.0025 here.
        assert!(
            (rate - p).abs() < 0.012,
            "p = {p}: observed repeat rate {rate}"
        );
    }
    let mut e = Arcade::<Breakout>::new(Settings {
        sticky: 0.0,
        frame_skip: 1,
        ..Settings::default()
    });
    let mut obs = vec![0.0; e.observation_space().dim()];
    e.reset(Some(5), &mut obs);
    for t in 0..100 {
        e.step(&[(1 + t % 3) as f64], &mut obs);
        assert_eq!(e.executed(), Breakout::ACTIONS[1 + t % 3]);
    }
}

#[test]
fn frame_skip_counts_frames_and_stops_at_game_over() {
    for skip in [1u32, 3, 4, 7] {
        let mut e = Arcade::<Breakout>::new(Settings {
            frame_skip: skip,
            ..Settings::default()
        });
        let mut obs = vec![0.0; e.observation_space().dim()];
        e.reset(Some(0), &mut obs);
        for t in 1..=50u64 {
            e.step(&[0.0], &mut obs);
            assert_eq!(e.frames(), t * skip as u64);
        }
    }
    // Serving and never moving loses all five balls; the last step may be cut short.
    let mut e = Arcade::<Breakout>::new(Settings {
        frame_skip: 4,
        sticky: 0.0,
        ..Settings::default()
    });
    let mut obs = vec![0.0; e.observation_space().dim()];
    e.reset(Some(0), &mut obs);
    let fire = e.index_of(Action::FIRE) as f64;
    let mut steps = 0u64;
    loop {
        steps += 1;
        let s = e.step(&[fire], &mut obs);
        if s.terminated {
            assert!(!s.truncated && e.lives() == 0);
            break;
        }
        assert_eq!(e.frames(), 4 * steps);
    }
    assert!(e.frames() > 4 * (steps - 1) && e.frames() <= 4 * steps);
}

#[test]
fn episodes_are_truncated_at_108000_frames() {
    // Breakout never serves without FIRE, so NOOP plays until the cap.
    let mut e = env("breakout", &[]);
    let mut obs = vec![0.0; e.observation_space().dim()];
    e.reset(Some(0), &mut obs);
    for t in 1..=27_000 {
        let s = e.step(&[0.0], &mut obs);
        assert!(!s.terminated);
        assert_eq!(s.truncated, t == 27_000, "step {t}");
    }
    let mut e = env("breakout", &[("frameskip", "5"), ("max_frames", "1000")]);
    e.reset(Some(0), &mut obs);
    let ends: Vec<bool> = (0..200)
        .map(|_| e.step(&[0.0], &mut obs).truncated)
        .collect();
    assert_eq!(ends.iter().position(|&t| t), Some(199));
}

#[test]
fn observations_have_their_shape_and_stay_in_range() {
    for game in GAMES {
        for (options, steps) in [(vec![], 3000), (vec![("view", "pixels")], 60)] {
            let mut e = env(game, &options);
            let dim = e.observation_space().dim();
            let mut obs = vec![f64::NAN; dim];
            let mut rng = Rng::new(0);
            e.reset(Some(0), &mut obs);
            let mut seen = vec![false; dim];
            for _ in 0..steps {
                let s = e.step(&[rng.below(n_actions(e.as_ref())) as f64], &mut obs);
                assert!(
                    obs.iter().all(|v| (0.0..=1.0).contains(v)),
                    "{game} {options:?}"
                );
                assert!(s.reward.is_finite());
                for (seen, &v) in seen.iter_mut().zip(&obs) {
                    *seen |= v > 0.0;
                }
                if s.done() {
                    e.reset(None, &mut obs);
                }
            }
            assert!(
                seen.iter().any(|&s| s),
                "{game} {options:?}: something is shown"
            );
            let frame = e.render(80, 105).unwrap();
            assert_eq!(frame.len(), 80 * 105 * 3);
        }
    }
    let shape = |options: &[(&str, &str)]| match env("pong", options).observation_space() {
        trustbench_envs::Space::Box { shape, .. } => shape.clone(),
        _ => unreachable!(),
    };
    assert_eq!(shape(&[]), vec![10, 10, 4]);
    assert_eq!(shape(&[("grid", "16")]), vec![16, 16, 4]);
    assert_eq!(shape(&[("view", "pixels")]), vec![84, 84, 4]);
    assert_eq!(
        shape(&[
            ("view", "pixels"),
            ("grayscale", "false"),
            ("downsample", "false"),
            ("stack", "2")
        ]),
        vec![210, 160, 6]
    );
    let e = Arcade::<Breakout>::new(Settings {
        full_action_set: true,
        ..Settings::default()
    });
    assert_eq!(e.action_set().len(), 18);
}

#[test]
fn the_2015_preset_turns_sticky_actions_off_and_options_are_checked() {
    let spec = resolve_spec("pong").unwrap();
    let opts = |kv: &[(&str, &str)]| {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let settings =
        |kv: &[(&str, &str)]| Settings::from_options(&spec.resolve_options(&opts(kv)).unwrap());
    assert_eq!(settings(&[("preset", "2015")]).unwrap().sticky, 0.0);
    assert_eq!(settings(&[]).unwrap().sticky, 0.25);
    assert_eq!(
        settings(&[("preset", "2015"), ("sticky", "0.1")])
            .unwrap()
            .sticky,
        0.1
    );
    let pixels = settings(&[("view", "pixels"), ("max_pool", "false")]).unwrap();
    assert_eq!(
        pixels.view,
        View::Pixels(Preprocess {
            max_pool: false,
            ..Preprocess::default()
        })
    );
    let paper = settings(&[("view", "pixels"), ("preset", "2015")]).unwrap();
    let View::Pixels(paper) = paper.view else {
        panic!("pixels")
    };
    assert_eq!(
        (paper.downsample, paper.shape()),
        (Some([50, 38]), [50, 38, 4])
    );
    let sized = settings(&[("view", "pixels"), ("preset", "2015"), ("size", "84x84")]).unwrap();
    assert_eq!(sized.view, View::Pixels(Preprocess::default()));
    for bad in ["84", "0x10", "211x160", "50x161", "axb"] {
        let e = settings(&[("view", "pixels"), ("size", bad)]).unwrap_err();
        assert!(
            e.contains(&format!("'size' = '{bad}'")) && e.contains("1 ..= 210"),
            "{e}"
        );
    }
    let e = settings(&[
        ("view", "pixels"),
        ("downsample", "false"),
        ("size", "50x38"),
    ])
    .unwrap_err();
    assert!(
        e.contains("'size'") && e.contains("downsample=false"),
        "{e}"
    );
    let e = settings(&[("stack", "2")]).unwrap_err();
    assert!(e.contains("'stack'") && e.contains("view=pixels"), "{e}");
    let e = settings(&[("frameskip", "0")]).unwrap_err();
    assert!(
        e.contains("'frameskip' = '0'") && e.contains("1 ..= 64"),
        "{e}"
    );
    let e = settings(&[("preset", "2013")]).unwrap_err();
    assert!(e.contains("'2013'") && e.contains("default | 2015"), "{e}");
    assert!(resolve("spaceinvaders").unwrap().id() == "spaceinvaders-v1");
}

/// Mean return per episode over `episodes` episodes of the scripted policy,
/// or of uniform random actions.
fn mean_return(game: &str, options: &[(&str, &str)], scripted: bool, episodes: u64) -> f64 {
    let mut e = env(game, options);
    let mut obs = vec![0.0; e.observation_space().dim()];
    let mut rng = Rng::new(9);
    let n = n_actions(e.as_ref());
    let mut total = 0.0;
    let mut action = [0.0];
    for i in 0..episodes {
        e.reset(Some(i), &mut obs);
        loop {
            if scripted {
                assert!(e.scripted_action(&mut action));
            } else {
                action[0] = rng.below(n) as f64;
            }
            let s = e.step(&action, &mut obs);
            total += s.reward;
            if s.done() {
                break;
            }
        }
    }
    total / episodes as f64
}

/// Per episode, not per step: a scripted player that scores faster but
/// dies sooner than random (Seaquest's first one did, under both presets)
/// must not pass. "Clearly better": ahead by 10 points and by half of
/// random's score.
#[test]
fn scripted_policies_beat_random_per_episode() {
    for game in GAMES {
        for options in [&[][..], &[("preset", "2015")][..]] {
            let scripted = mean_return(game, options, true, 5);
            let random = mean_return(game, options, false, 5);
            eprintln!("{game} {options:?}: scripted {scripted}, random {random}");
            assert!(
                scripted > random + 10.0_f64.max(random.abs() / 2.0),
                "{game} {options:?}: scripted {scripted} vs random {random} per episode"
            );
        }
    }
}
