//! What every game shares: the joystick, the [`Game`] contract, and score
//! and lives bookkeeping (with the heads-up display that shows them).

use super::screen::{Grid, Rect, Screen};
use crate::Rng;
use crate::render::Rgb;

/// One of ALE's 18 joystick actions, in ALE's numbering (`NOOP` = 0 …
/// `DOWNLEFTFIRE` = 17). Games read it as a direction plus the button, so
/// the full action set needs no per-game code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Action(u8);

/// `(name, dx, dy, fire)` of each action, in ALE's order; dy < 0 is up.
const TABLE: [(&str, i8, i8, bool); 18] = [
    ("NOOP", 0, 0, false),
    ("FIRE", 0, 0, true),
    ("UP", 0, -1, false),
    ("RIGHT", 1, 0, false),
    ("LEFT", -1, 0, false),
    ("DOWN", 0, 1, false),
    ("UPRIGHT", 1, -1, false),
    ("UPLEFT", -1, -1, false),
    ("DOWNRIGHT", 1, 1, false),
    ("DOWNLEFT", -1, 1, false),
    ("UPFIRE", 0, -1, true),
    ("RIGHTFIRE", 1, 0, true),
    ("LEFTFIRE", -1, 0, true),
    ("DOWNFIRE", 0, 1, true),
    ("UPRIGHTFIRE", 1, -1, true),
    ("UPLEFTFIRE", -1, -1, true),
    ("DOWNRIGHTFIRE", 1, 1, true),
    ("DOWNLEFTFIRE", -1, 1, true),
];

impl Action {
    /// Do nothing.
    pub const NOOP: Action = Action(0);
    /// Press the button.
    pub const FIRE: Action = Action(1);
    /// Stick up.
    pub const UP: Action = Action(2);
    /// Stick right.
    pub const RIGHT: Action = Action(3);
    /// Stick left.
    pub const LEFT: Action = Action(4);
    /// Stick down.
    pub const DOWN: Action = Action(5);
    /// Stick up-right.
    pub const UPRIGHT: Action = Action(6);
    /// Stick up-left.
    pub const UPLEFT: Action = Action(7);
    /// Stick down-right.
    pub const DOWNRIGHT: Action = Action(8);
    /// Stick down-left.
    pub const DOWNLEFT: Action = Action(9);
    /// Up with the button.
    pub const UPFIRE: Action = Action(10);
    /// Right with the button.
    pub const RIGHTFIRE: Action = Action(11);
    /// Left with the button.
    pub const LEFTFIRE: Action = Action(12);
    /// Down with the button.
    pub const DOWNFIRE: Action = Action(13);
    /// Up-right with the button.
    pub const UPRIGHTFIRE: Action = Action(14);
    /// Up-left with the button.
    pub const UPLEFTFIRE: Action = Action(15);
    /// Down-right with the button.
    pub const DOWNRIGHTFIRE: Action = Action(16);
    /// Down-left with the button.
    pub const DOWNLEFTFIRE: Action = Action(17);

    /// ALE's full action set, in ALE's order.
    pub const ALL: [Action; 18] = {
        let mut all = [Action(0); 18];
        let mut i = 0;
        while i < 18 {
            all[i] = Action(i as u8);
            i += 1;
        }
        all
    };

    /// The action `dx` (−1 left, 0, 1 right), `dy` (−1 up, 0, 1 down) and
    /// the button.
    pub fn from_parts(dx: i32, dy: i32, fire: bool) -> Action {
        let i = TABLE
            .iter()
            .position(|&(_, x, y, f)| {
                x as i32 == dx.signum() && y as i32 == dy.signum() && f == fire
            })
            .expect("every direction and button combination is an action");
        Action(i as u8)
    }

    /// ALE's index (0..18).
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// ALE's name (`UPRIGHTFIRE`).
    pub fn name(self) -> &'static str {
        TABLE[self.index()].0
    }

    /// Horizontal direction: −1 left, 0, 1 right.
    pub fn dx(self) -> i32 {
        TABLE[self.index()].1 as i32
    }

    /// Vertical direction: −1 up, 0, 1 down.
    pub fn dy(self) -> i32 {
        TABLE[self.index()].2 as i32
    }

    /// Whether the button is pressed.
    pub fn fire(self) -> bool {
        TABLE[self.index()].3
    }
}

/// Score, lives and game over: the bookkeeping every game does the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    score: i32,
    lives: u32,
    over: bool,
}

impl Status {
    /// A game starting with `lives` lives (0 for games without lives).
    pub fn new(lives: u32) -> Status {
        Status {
            score: 0,
            lives,
            over: false,
        }
    }

    /// Add `points` to the score and return them (the frame's reward).
    pub fn award(&mut self, points: i32) -> i32 {
        self.score += points;
        points
    }

    /// Lose a life; losing the last one ends the game.
    pub fn lose_life(&mut self) {
        self.lives = self.lives.saturating_sub(1);
        if self.lives == 0 {
            self.over = true;
        }
    }

    /// End the game (a race lost, a match won, the invaders landed).
    pub fn end(&mut self) {
        self.over = true;
    }

    /// The score shown on screen.
    pub fn score(&self) -> i32 {
        self.score
    }

    /// Lives left, the current one included.
    pub fn lives(&self) -> u32 {
        self.lives
    }

    /// Whether the game is over (the episode terminates).
    pub fn over(&self) -> bool {
        self.over
    }

    /// The usual heads-up display: the score at the top centre, a pip per
    /// spare life at the top right.
    pub fn draw(&self, screen: &mut Screen, color: Rgb) {
        screen.number(96, 4, self.score, color);
        for i in 0..self.lives.saturating_sub(1).min(8) as i32 {
            screen.rect(Rect::new(150 - 6 * i, 6, 4, 6), color);
        }
    }
}

/// One arcade game as a state machine advanced one frame (1/60 s) at a
/// time. The ALE conventions — action sets, frame skip, sticky actions,
/// episode ends, observations — are the wrapper's ([`super::Arcade`]); a
/// game only knows its rules.
pub trait Game: Clone + Send + 'static {
    /// ALE's minimal action set of the game, in ALE's order.
    const ACTIONS: &'static [Action];
    /// The object kinds of the compact view, one channel each.
    const CHANNELS: &'static [&'static str];
    /// The area (in the coordinates the game gives [`Grid`]) that the
    /// compact view's grid covers.
    const FIELD: Rect;

    /// A new game, in its starting state.
    fn new(rng: &mut Rng) -> Self;

    /// Advance one frame with the joystick in `action`; returns the points
    /// scored (negative when the opponent scores, as in Pong).
    fn frame(&mut self, action: Action, rng: &mut Rng) -> i32;

    /// Score, lives, game over.
    fn status(&self) -> &Status;

    /// Mark the objects on the compact view's grid.
    fn compact(&self, grid: &mut Grid);

    /// Draw the frame (the whole 160 × 210 screen).
    fn draw(&self, screen: &mut Screen);

    /// A simple hand-written policy reading the game's state: the baseline
    /// that shows the game is playable (it must beat random clearly).
    fn scripted(&self) -> Action;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_decompose_as_in_ale() {
        assert_eq!(Action::UPRIGHTFIRE.index(), 14);
        assert_eq!(Action::from_parts(-1, 1, true), Action::DOWNLEFTFIRE);
        assert_eq!(Action::from_parts(0, 0, false), Action::NOOP);
        for a in Action::ALL {
            assert_eq!(
                Action::from_parts(a.dx(), a.dy(), a.fire()),
                a,
                "{}",
                a.name()
            );
        }
        let mut s = Status::new(2);
        assert_eq!(s.award(7), 7);
        s.lose_life();
        assert!(!s.over());
        s.lose_life();
        assert!(s.over() && s.score() == 7);
    }
}
