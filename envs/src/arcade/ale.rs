//! The ALE conventions, written once for every game: action sets, frame
//! skip, sticky actions, lives and episode ends, the two views, options.

use super::game::{Action, Game};
use super::pixels::{DQN_SIZE, Pipeline, Preprocess, TRPO_SIZE};
use super::screen::{Grid, Screen};
use super::screen::{HEIGHT, WIDTH};
use crate::registry::{EnvOption, EnvOptions};
use crate::{Env, Rng, Step, derive_seed};
use std::sync::Arc;
use trustbench_plugin::Space;

/// Frames per agent step unless told otherwise (ALE v5's `frameskip=4`).
pub const FRAME_SKIP: u32 = 4;
/// Episode cap in frames (ALE v5's `max_num_frames_per_episode`: 30 minutes at 60 Hz).
pub const MAX_FRAMES: u64 = 108_000;
/// Sticky-action probability unless told otherwise (Machado et al. 2018).
pub const STICKY: f64 = 0.25;
/// Side of the compact view's grid unless told otherwise (MinAtar's 10).
pub const GRID: usize = 10;

/// The options every arcade env accepts (`--env-set KEY=VALUE`).
pub static OPTIONS: &[EnvOption] = &[
    EnvOption {
        key: "view",
        default: "compact",
        valid: "compact | pixels",
        help: "compact: a small grid, one channel per object kind; pixels: preprocessed frames",
    },
    EnvOption {
        key: "preset",
        default: "default",
        valid: "default | 2015",
        help: "default: Machado et al. (2018), sticky 0.25; 2015: the TRPO/DQN protocol, sticky 0 \
               (and the TRPO paper's 50 × 38 frames for view=pixels)",
    },
    EnvOption {
        key: "sticky",
        default: "auto",
        valid: "auto (the preset's) | a probability in [0, 1)",
        help: "probability that a frame repeats the previously executed action",
    },
    EnvOption {
        key: "frameskip",
        default: "4",
        valid: "an integer in 1 ..= 64",
        help: "frames per agent step (rewards summed)",
    },
    EnvOption {
        key: "full_action_set",
        default: "false",
        valid: "true | false",
        help: "all 18 joystick actions instead of the game's minimal set",
    },
    EnvOption {
        key: "max_frames",
        default: "108000",
        valid: "an integer ≥ 1",
        help: "episode truncated after this many frames",
    },
    EnvOption {
        key: "grid",
        default: "10",
        valid: "an integer in 4 ..= 64",
        help: "compact view: side of the grid",
    },
    EnvOption {
        key: "grayscale",
        default: "true",
        valid: "true | false",
        help: "pixels: one luminance channel instead of RGB",
    },
    EnvOption {
        key: "downsample",
        default: "true",
        valid: "true | false",
        help: "pixels: shrink 160 × 210 frames to `size` by area averaging",
    },
    EnvOption {
        key: "size",
        default: "auto",
        valid: "auto (the preset's: 84x84, 50x38 with preset=2015) | HxW with H in 1 ..= 210, W in 1 ..= 160",
        help: "pixels: height × width of a downsampled frame (DQN: 84x84; the TRPO paper: 50x38)",
    },
    EnvOption {
        key: "max_pool",
        default: "true",
        valid: "true | false",
        help: "pixels: max over the last two frames of each step",
    },
    EnvOption {
        key: "stack",
        default: "4",
        valid: "an integer in 1 ..= 16",
        help: "pixels: frames stacked into one observation",
    },
];

/// `HxW` with `1 ≤ H ≤ 210`, `1 ≤ W ≤ 160` (downsampling never enlarges).
fn parse_size(text: &str) -> Option<[usize; 2]> {
    let (h, w) = text.split_once('x')?;
    let (h, w) = (h.parse().ok()?, w.parse().ok()?);
    ((1..=HEIGHT).contains(&h) && (1..=WIDTH).contains(&w)).then_some([h, w])
}

/// What the agent observes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// A `side × side × channels` grid of 0/1 (see [`Grid`]).
    Compact {
        /// Side of the grid.
        side: usize,
    },
    /// Preprocessed frames.
    Pixels(Preprocess),
}

/// The ALE settings of an arcade env.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// What the agent observes.
    pub view: View,
    /// Probability that a frame repeats the previously executed action.
    pub sticky: f64,
    /// Frames per agent step.
    pub frame_skip: u32,
    /// All 18 actions instead of the minimal set.
    pub full_action_set: bool,
    /// Truncate after this many frames.
    pub max_frames: u64,
}

impl Default for Settings {
    /// ALE v5 (Machado et al. 2018) with the compact view.
    fn default() -> Settings {
        Settings {
            view: View::Compact { side: GRID },
            sticky: STICKY,
            frame_skip: FRAME_SKIP,
            full_action_set: false,
            max_frames: MAX_FRAMES,
        }
    }
}

impl Settings {
    /// The settings the options describe; errors name the bad key, its
    /// value and the valid values.
    pub fn from_options(o: &EnvOptions) -> Result<Settings, String> {
        let (preset_sticky, preset_size) = match o.get("preset") {
            "default" => (STICKY, DQN_SIZE),
            "2015" => (0.0, TRPO_SIZE),
            _ => return Err(o.invalid("preset")),
        };
        let sticky = match o.get("sticky") {
            "auto" => preset_sticky,
            _ => o.parse("sticky", |p: &f64| (0.0..1.0).contains(p))?,
        };
        let pixel_keys = ["grayscale", "downsample", "size", "max_pool", "stack"];
        let view = match o.get("view") {
            "compact" => {
                if let Some(key) = pixel_keys.iter().find(|k| o.is_changed(k)) {
                    return Err(format!(
                        "env option '{key}' applies to view=pixels only (this env has view=compact)"
                    ));
                }
                View::Compact {
                    side: o.parse("grid", |s: &usize| (4..=64).contains(s))?,
                }
            }
            "pixels" => {
                if o.is_changed("grid") {
                    return Err(
                        "env option 'grid' applies to view=compact only (this env has view=pixels)"
                            .to_string(),
                    );
                }
                let size = match o.get("size") {
                    "auto" => preset_size,
                    text => parse_size(text).ok_or_else(|| o.invalid("size"))?,
                };
                if !o.flag("downsample")? && o.is_changed("size") {
                    return Err(
                        "env option 'size' applies to downsampled frames only (this env has downsample=false)"
                            .to_string(),
                    );
                }
                View::Pixels(Preprocess {
                    grayscale: o.flag("grayscale")?,
                    downsample: o.flag("downsample")?.then_some(size),
                    max_pool: o.flag("max_pool")?,
                    stack: o.parse("stack", |s: &usize| (1..=16).contains(s))?,
                })
            }
            _ => return Err(o.invalid("view")),
        };
        Ok(Settings {
            view,
            sticky,
            frame_skip: o.parse("frameskip", |f: &u32| (1..=64).contains(f))?,
            full_action_set: o.flag("full_action_set")?,
            max_frames: o.parse("max_frames", |&m: &u64| m >= 1)?,
        })
    }
}

/// How observations are made: the compact grid's side, or the pixel
/// pipeline (which holds the frame stack, part of the state).
#[derive(Debug, Clone)]
enum Observer {
    Compact(usize),
    Pixels(Pipeline),
}

/// A game behind ALE's interface (see the [module docs](super)).
///
/// Two random streams, both derived from the reset seed: the game's own
/// (enemy spawns and the like) and the sticky-action draws, so switching
/// sticky actions on or off leaves the game's randomness unchanged.
#[derive(Debug, Clone)]
pub struct Arcade<G: Game> {
    game: G,
    game_rng: Rng,
    sticky_rng: Rng,
    settings: Settings,
    actions: &'static [Action],
    /// The action the last frame executed (what a sticky frame repeats).
    executed: Action,
    /// Frames of the current episode.
    frames: u64,
    observer: Observer,
    spaces: Arc<(Space, Space)>,
}

impl<G: Game> Arcade<G> {
    /// A game with these settings (call `reset` before stepping).
    pub fn new(settings: Settings) -> Arcade<G> {
        let actions: &'static [Action] = if settings.full_action_set {
            &Action::ALL
        } else {
            G::ACTIONS
        };
        let shape = match settings.view {
            View::Compact { side } => vec![side, side, G::CHANNELS.len()],
            View::Pixels(p) => p.shape().to_vec(),
        };
        let dim: usize = shape.iter().product();
        let observation = Space::Box {
            shape,
            low: vec![0.0; dim],
            high: vec![1.0; dim],
        };
        let action = Space::Discrete { n: actions.len() };
        let mut rng = Rng::new(0);
        Arcade {
            game: G::new(&mut rng),
            game_rng: rng,
            sticky_rng: Rng::new(1),
            settings,
            actions,
            executed: Action::NOOP,
            frames: 0,
            observer: match settings.view {
                View::Pixels(p) => Observer::Pixels(Pipeline::new(p)),
                View::Compact { side } => Observer::Compact(side),
            },
            spaces: Arc::new((observation, action)),
        }
    }

    /// A game configured by env options (see [`OPTIONS`]).
    pub fn from_options(options: &EnvOptions) -> Result<Arcade<G>, String> {
        Settings::from_options(options).map(Arcade::new)
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The game (for tests and scripted policies).
    pub fn game(&self) -> &G {
        &self.game
    }

    /// The game, to set up hand-built situations in tests.
    pub fn game_mut(&mut self) -> &mut G {
        &mut self.game
    }

    /// The actions the discrete action indices stand for.
    pub fn action_set(&self) -> &'static [Action] {
        self.actions
    }

    /// The joystick action the last frame executed (after stickiness).
    pub fn executed(&self) -> Action {
        self.executed
    }

    /// Frames emulated in the current episode.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Lives left (ALE's `lives()`; 0 for games without lives).
    pub fn lives(&self) -> u32 {
        self.game.status().lives()
    }

    /// The index of `action` in the action set (NOOP if it is not in it).
    pub fn index_of(&self, action: Action) -> usize {
        self.actions.iter().position(|&a| a == action).unwrap_or(0)
    }

    fn observe(&self, obs: &mut [f64]) {
        match &self.observer {
            Observer::Pixels(p) => p.write(obs),
            Observer::Compact(side) => {
                let grid = &mut Grid::new(obs, *side, G::CHANNELS.len(), G::FIELD);
                self.game.compact(grid);
            }
        }
    }
}

impl<G: Game> Env for Arcade<G> {
    fn observation_space(&self) -> &Space {
        &self.spaces.0
    }

    fn action_space(&self) -> &Space {
        &self.spaces.1
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]) {
        if let Some(seed) = seed {
            self.game_rng = Rng::new(derive_seed(seed, 0, 0));
            self.sticky_rng = Rng::new(derive_seed(seed, 1, 0));
        }
        self.game = G::new(&mut self.game_rng);
        self.executed = Action::NOOP;
        self.frames = 0;
        if let Observer::Pixels(p) = &mut self.observer {
            p.start(&self.game);
        }
        self.observe(obs);
    }

    /// `frame_skip` frames with the chosen action, each frame repeating the
    /// previously executed action instead with probability `sticky` (ALE's
    /// rule, per frame). Rewards are summed; the step stops early at game
    /// over or at the frame cap.
    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Step {
        let index = (action[0].max(0.0) as usize).min(self.actions.len() - 1);
        let chosen = self.actions[index];
        let skip = self.settings.frame_skip;
        // Frames from which the pixel view is drawn: the last one, and the
        // one before it when max-pooling.
        let first_drawn = match &self.observer {
            Observer::Pixels(p) if p.settings().max_pool => skip.saturating_sub(2),
            _ => skip - 1,
        };
        let mut reward = 0i64;
        for k in 0..skip {
            if self.settings.sticky == 0.0 || self.sticky_rng.uniform() >= self.settings.sticky {
                self.executed = chosen;
            }
            reward += self.game.frame(self.executed, &mut self.game_rng) as i64;
            self.frames += 1;
            let ended = self.game.status().over() || self.frames >= self.settings.max_frames;
            if let Observer::Pixels(p) = &mut self.observer
                && (k >= first_drawn || ended)
            {
                p.capture(&self.game);
            }
            if ended {
                break;
            }
        }
        if let Observer::Pixels(p) = &mut self.observer {
            p.push();
        }
        self.observe(obs);
        let terminated = self.game.status().over();
        Step {
            reward: reward as f64,
            terminated,
            truncated: !terminated && self.frames >= self.settings.max_frames,
        }
    }

    fn boxed_clone(&self) -> Box<dyn Env> {
        Box::new(self.clone())
    }

    fn observation_bytes(&self) -> Option<&[u8]> {
        match &self.observer {
            Observer::Pixels(p) => Some(p.bytes()),
            Observer::Compact(_) => None,
        }
    }

    /// The current frame in colour (160 × 210), scaled to the size asked.
    fn render(&self, width: usize, height: usize) -> Option<Vec<u8>> {
        let mut screen = Screen::new(true);
        self.game.draw(&mut screen);
        Some(screen.to_rgb(width, height))
    }

    fn scripted_action(&self, action: &mut [f64]) -> bool {
        action[0] = self.index_of(self.game.scripted()) as f64;
        true
    }
}
