//! The arcade suite: the seven Atari 2600 games of the TRPO paper (Beam
//! Rider, Breakout, Enduro, Pong, Q*bert, Seaquest, Space Invaders),
//! re-implemented natively — we cannot ship the ROMs — behind the interface
//! RL users know from the Arcade Learning Environment (ALE).
//!
//! Each game is a small state machine advanced one 60 Hz frame at a time
//! ([`Game`]), in its own file whose docs carry its rules card: what is
//! kept of the original and what is simplified. Everything ALE adds around a
//! game is written once, in [`Arcade`]:
//!
//! - **Actions**: the game's minimal action set in ALE's order, or ALE's
//!   full 18 (`full_action_set=true`); games read an action as stick
//!   direction plus button, so every action means something consistent.
//! - **Frame skip** (`frameskip`, default 4): one agent step is that many
//!   frames with the same chosen action, rewards summed.
//! - **Sticky actions** (`sticky`, default p = 0.25, Machado et al. 2018):
//!   at every frame, with probability p the previously *executed* action is
//!   executed again instead of the chosen one. The `2015` preset sets
//!   p = 0, the deterministic protocol of the DQN and TRPO papers.
//! - **Episodes**: lives are kept, but the episode terminates only at game
//!   over; it is truncated at 108,000 frames (`max_frames`: 30 minutes of
//!   play, 27,000 agent steps at frame skip 4).
//! - **Seeding**: `reset(Some(seed))` derives the game's random stream and
//!   the sticky-action stream from the seed; the whole state, both streams
//!   included, is in the value, so a clone is an exact snapshot.
//!
//! Two observations (`view`):
//!
//! - `compact` (default): a `grid × grid` map (default 10 × 10, as MinAtar)
//!   with one 0/1 channel per object kind, flattened height × width ×
//!   channels. Cheap enough for millions of steps per second.
//! - `pixels`: 160 × 210 frames drawn by the game, with the usual
//!   preprocessing, each step selectable — `grayscale`, `downsample` (to
//!   `size`: 84 × 84 as DQN, or with `preset=2015` the TRPO paper's
//!   50 × 38, whose 4 stacked frames its conv net of ≈ 33,500 parameters
//!   reads; ours has 33,458 on that shape with 6 actions: conv 4→16 k4 s2
//!   to 24 × 18, conv 16→16 k4 s2 to 11 × 8, dense 1,408→20, dense 20→6),
//!   `max_pool` (over the last two frames of a step), `stack` (default 4) —
//!   giving height × width × (stack · colour) values in [0, 1]. See
//!   [`pixels`](Preprocess).
//!
//! `Env::render` always returns the colour frame, scaled to the size asked.

mod ale;
mod beamrider;
mod breakout;
mod enduro;
mod game;
mod pixels;
mod pong;
mod qbert;
mod screen;
mod seaquest;
mod spaceinvaders;

pub use crate::registry::GAMES;
pub use ale::{Arcade, FRAME_SKIP, GRID, MAX_FRAMES, OPTIONS, STICKY, Settings, View};
pub use beamrider::BeamRider;
pub use breakout::Breakout;
pub use enduro::Enduro;
pub use game::{Action, Game, Status};
pub use pixels::{DQN_SIZE, Preprocess, TRPO_SIZE};
pub use pong::Pong;
pub use qbert::Qbert;
pub use screen::{Grid, HEIGHT, Rect, Screen, WIDTH};
pub use seaquest::Seaquest;
pub use spaceinvaders::SpaceInvaders;
