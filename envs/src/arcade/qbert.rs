//! # Q*bert (`qbert-v1`)
//!
//! ## Description
//! Atari 2600 Q*bert (1983): hop around a pyramid of 28 cubes, changing
//! the colour of each top, while avoiding what falls and chases. Rules card
//! — kept: the 7-row pyramid and its four diagonal hops (UP = up-right,
//! RIGHT = down-right, LEFT = up-left, DOWN = down-left, as on the 2600's
//! turned joystick); 25 points per cube changed, a round bonus when all 28
//! are (1000 + 250 per round completed, ours) and a fresh pyramid; hopping
//! off the pyramid costs a life; red balls that drop in and bounce down at
//! random; Coily, an egg that bounces to the bottom, hatches and then chases
//! hop by hop; two flying discs at the sides (rows 3) that carry Q*bert to
//! the top, and lure a chasing Coily off the edge for 500; four lives; the
//! ROM's pace — a life (and the game) starts with a 160-frame pause before
//! Q*bert may hop (from the ROM's shortest lives, measured).
//! Simplified: one colour change per cube on every round; no green ball,
//! Slick, Sam, Ugg or Wrongway; enemies hop on a fixed beat (every 40
//! frames, Q*bert's hop takes 28: calibrated, a random player's points come
//! 8–9 agent steps apart on the ROM). A random player scores 20% more than
//! on the ROM (177 against 148 over 30 episodes), within the suite's
//! tolerance (`benches/README.md`).
//!
//! ## Action Space
//! `discrete(6)`, ALE's minimal set: NOOP, FIRE, UP, RIGHT, LEFT, DOWN
//! (FIRE does nothing).
//!
//! ## Observation Space
//! Compact view: `10 × 10 × 6` (Q*bert, cube still to change, cube done,
//! red ball, Coily — egg or snake —, disc) over the pyramid. Pixel view: see
//! [`super`].
//!
//! ## Rewards
//! Points as listed above.
//!
//! ## Starting State
//! Q*bert on the top cube, all cubes unchanged, no enemy yet, the start
//! pause before the first hop.
//!
//! ## Episode End
//! Terminated when the last life is lost; truncated at the frame cap.
//!
//! ## Arguments
//! The arcade options (see [`super`]).
//!
//! ## Version History
//! - v1: the ROM's 160-frame pause at the start of each life, a slower hop
//!   (28 frames, enemies every 40) (issue 15). Random player, 30 episodes:
//!   return 167 → 177, length 117 → 317 agent steps (ROM: 148, 333).
//! - v0: first version.

use super::game::{Action, Game, Status};
use super::screen::{Grid, Rect, Screen};
use crate::Rng;
use std::sync::OnceLock;

const ROWS: i32 = 7;
const CUBES: u32 = 28;
const ALL_CUBES: u32 = (1 << CUBES) - 1;
const HOP_FRAMES: u32 = 28;
const ENEMY_BEAT: u32 = 40;
/// Frames from the start, or from a lost life, until Q*bert may hop again:
/// the ROM's death sequence and respawn (a random player's first points of
/// a life come at least 45 agent steps, 180 frames, after the previous
/// life was lost, the shortest life lasts 48; measured with
/// `benches/anchors/`).
const RESPAWN: u32 = 160;
/// Points per cube changed.
pub const CUBE_POINTS: i32 = 25;
/// Points for luring Coily off the pyramid.
pub const COILY_POINTS: i32 = 500;
/// The row whose sides have the discs.
const DISC_ROW: i32 = 3;

/// A place on (or just off) the pyramid: row and position in the row.
pub type Cell = (i32, i32);

/// The four hops: (d row, d column), in the order UP, RIGHT, LEFT, DOWN.
const HOPS: [(Action, Cell); 4] = [
    (Action::UP, (-1, 0)),
    (Action::RIGHT, (1, 1)),
    (Action::LEFT, (-1, -1)),
    (Action::DOWN, (1, 0)),
];

fn on_pyramid((r, c): Cell) -> bool {
    (0..ROWS).contains(&r) && (0..=r).contains(&c)
}

fn bit((r, c): Cell) -> u32 {
    1 << (r * (r + 1) / 2 + c)
}

/// Distance in hops ignoring the edges: rows, and screen columns (2c − r).
fn distance(a: Cell, b: Cell) -> i32 {
    let (dx, dy) = ((2 * a.1 - a.0) - (2 * b.1 - b.0), a.0 - b.0);
    dy.abs().max((dx.abs() + dy.abs()) / 2)
}

/// Screen position of a cube's top (centre x, top y).
fn cube_xy((r, c): Cell) -> (i32, i32) {
    (80 + (2 * c - r) * 12, 36 + r * 24)
}

/// The pyramid's cubes, row by row from the top.
fn cubes() -> impl Iterator<Item = Cell> {
    (0..ROWS).flat_map(|r| (0..=r).map(move |c| (r, c)))
}

/// The black screen with the cubes' two sides, which never change, drawn
/// once per pixel format: they are two thirds of a frame's row fills, and
/// a frame now starts as a copy of this. (Cubes do not overlap, so drawing
/// the tops afterwards gives the same pixels as drawing cube by cube.)
fn backdrop(channels: usize) -> &'static Screen {
    static GRAY: OnceLock<Screen> = OnceLock::new();
    static RGB: OnceLock<Screen> = OnceLock::new();
    let rgb = channels == 3;
    (if rgb { &RGB } else { &GRAY }).get_or_init(|| {
        let mut s = Screen::new(rgb);
        for cell in cubes() {
            let (x, y) = cube_xy(cell);
            s.rect(Rect::new(x - 11, y + 6, 11, 14), [45, 87, 176]);
            s.rect(Rect::new(x, y + 6, 11, 14), [24, 26, 110]);
        }
        s
    })
}

/// Something that hops: where it is, and where it is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hopper {
    /// The cell it stands on (or left).
    pub at: Cell,
    /// The cell it is hopping to, with frames left.
    pub hop: Option<(Cell, u32)>,
}

impl Hopper {
    fn new(at: Cell) -> Hopper {
        Hopper { at, hop: None }
    }

    /// Where it counts as being: the destination once past mid-hop.
    pub fn cell(&self) -> Cell {
        match self.hop {
            Some((to, left)) if left <= HOP_FRAMES / 2 => to,
            _ => self.at,
        }
    }

    /// Advance the hop; the cell landed on, if it lands this frame.
    fn advance(&mut self) -> Option<Cell> {
        let (to, left) = self.hop?;
        if left > 1 {
            self.hop = Some((to, left - 1));
            return None;
        }
        self.hop = None;
        self.at = to;
        Some(to)
    }
}

/// Coily: an egg until it reaches the bottom row, then a snake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coily {
    /// Position.
    pub body: Hopper,
    /// Whether it has hatched.
    pub hatched: bool,
}

/// Q*bert's state (see the module docs).
#[derive(Debug, Clone)]
pub struct Qbert {
    status: Status,
    /// Q*bert.
    pub qbert: Hopper,
    /// Cubes changed, one bit per cube (row-major from the top).
    pub changed: u32,
    /// Red balls.
    pub balls: [Option<Hopper>; 2],
    /// Coily.
    pub coily: Option<Coily>,
    /// Discs left: left side, right side.
    pub discs: [bool; 2],
    /// Frames left of a disc ride, falling off, or the pause after a death.
    pub busy: u32,
    /// Whether the current `busy` ends in a lost life (falling off).
    falling: bool,
    beat: u32,
    round: i32,
}

impl Qbert {
    fn reset_board(&mut self) {
        self.qbert = Hopper::new((0, 0));
        self.balls = [None; 2];
        self.coily = None;
        self.beat = 0;
    }

    fn disc_side((r, c): Cell) -> Option<usize> {
        match (r == DISC_ROW, c) {
            (true, -1) => Some(0),
            (true, c) if c == DISC_ROW + 1 => Some(1),
            _ => None,
        }
    }

    /// Q*bert lands on `cell`: a cube, a disc, or thin air.
    fn land(&mut self, cell: Cell) -> i32 {
        if on_pyramid(cell) {
            if self.changed & bit(cell) != 0 {
                return 0;
            }
            self.changed |= bit(cell);
            let mut points = self.status.award(CUBE_POINTS);
            if self.changed == ALL_CUBES {
                points += self.status.award(1000 + 250 * self.round);
                self.round += 1;
                self.changed = 0;
                self.discs = [true; 2];
                self.reset_board();
                self.busy = 30;
            }
            return points;
        }
        match Self::disc_side(cell).filter(|&s| self.discs[s]) {
            Some(side) => {
                self.discs[side] = false;
                self.busy = 60;
                self.falling = false;
                // A chasing Coily follows Q*bert over the edge.
                match self.coily {
                    Some(c) if c.hatched => {
                        self.coily = None;
                        self.status.award(COILY_POINTS)
                    }
                    _ => 0,
                }
            }
            None => {
                self.busy = RESPAWN;
                self.falling = true;
                0
            }
        }
    }

    fn enemy_cells(&self) -> impl Iterator<Item = Cell> + '_ {
        self.balls
            .iter()
            .flatten()
            .map(Hopper::cell)
            .chain(self.coily.map(|c| c.body.cell()))
    }

    /// Coily's next hop: the one that brings it closest to Q*bert.
    fn chase(&self, from: Cell) -> Cell {
        let goal = self.qbert.cell();
        HOPS.iter()
            .map(|&(_, (dr, dc))| (from.0 + dr, from.1 + dc))
            .filter(|&c| on_pyramid(c))
            .min_by_key(|&c| distance(c, goal))
            .unwrap_or(from)
    }
}

impl Game for Qbert {
    const ACTIONS: &'static [Action] = &[
        Action::NOOP,
        Action::FIRE,
        Action::UP,
        Action::RIGHT,
        Action::LEFT,
        Action::DOWN,
    ];
    const CHANNELS: &'static [&'static str] =
        &["qbert", "cube_todo", "cube_done", "ball", "coily", "disc"];
    const FIELD: Rect = Rect::new(2, 30, 156, 170);

    fn new(_rng: &mut Rng) -> Qbert {
        Qbert {
            status: Status::new(4),
            qbert: Hopper::new((0, 0)),
            changed: 0,
            balls: [None; 2],
            coily: None,
            discs: [true; 2],
            busy: RESPAWN,
            falling: false,
            beat: 0,
            round: 0,
        }
    }

    fn frame(&mut self, action: Action, rng: &mut Rng) -> i32 {
        if self.busy > 0 {
            self.busy -= 1;
            if self.busy == 0 {
                if self.falling {
                    self.falling = false;
                    self.status.lose_life();
                }
                self.reset_board();
            }
            return 0;
        }
        let mut reward = 0;
        if self.qbert.hop.is_none() {
            let dir = match (action.dx(), action.dy()) {
                (0, -1) => Some(HOPS[0].1),
                (1, 0) => Some(HOPS[1].1),
                (-1, 0) => Some(HOPS[2].1),
                (0, 1) => Some(HOPS[3].1),
                _ => None,
            };
            if let Some((dr, dc)) = dir {
                self.qbert.hop = Some(((self.qbert.at.0 + dr, self.qbert.at.1 + dc), HOP_FRAMES));
            }
        }
        if let Some(cell) = self.qbert.advance() {
            reward += self.land(cell);
            if self.busy > 0 {
                return reward;
            }
        }
        // Enemies hop on the beat; balls fall off the bottom, the egg hatches there.
        self.beat += 1;
        if self.beat.is_multiple_of(ENEMY_BEAT) {
            for ball in &mut self.balls {
                if let Some(b) = ball {
                    let to = (b.at.0 + 1, b.at.1 + rng.below(2) as i32);
                    *ball = on_pyramid(to).then_some(Hopper {
                        at: b.at,
                        hop: Some((to, HOP_FRAMES)),
                    });
                } else if self.beat > 4 * ENEMY_BEAT && rng.below(6) == 0 {
                    *ball = Some(Hopper::new((1, rng.below(2) as i32)));
                }
            }
            match self.coily {
                Some(mut c) => {
                    let to = if c.hatched {
                        self.chase(c.body.at)
                    } else {
                        (c.body.at.0 + 1, c.body.at.1 + rng.below(2) as i32)
                    };
                    if on_pyramid(to) {
                        c.body.hop = Some((to, HOP_FRAMES));
                    } else {
                        c.hatched = true;
                    }
                    self.coily = Some(c);
                }
                None if self.beat > 8 * ENEMY_BEAT && rng.below(4) == 0 => {
                    self.coily = Some(Coily {
                        body: Hopper::new((1, rng.below(2) as i32)),
                        hatched: false,
                    });
                }
                None => {}
            }
        }
        for ball in self.balls.iter_mut().flatten() {
            ball.advance();
        }
        if let Some(c) = &mut self.coily {
            c.body.advance();
        }
        let me = self.qbert.cell();
        if on_pyramid(me) && self.enemy_cells().any(|e| e == me) {
            self.status.lose_life();
            self.busy = RESPAWN;
        }
        reward
    }

    fn status(&self) -> &Status {
        &self.status
    }

    fn compact(&self, grid: &mut Grid) {
        let mark = |grid: &mut Grid, channel, cell: Cell| {
            let (x, y) = cube_xy(cell);
            grid.point(channel, x, y + 4);
        };
        for cell in cubes() {
            let channel = if self.changed & bit(cell) == 0 { 1 } else { 2 };
            mark(grid, channel, cell);
        }
        mark(grid, 0, self.qbert.cell());
        for b in self.balls.iter().flatten() {
            mark(grid, 3, b.cell());
        }
        if let Some(c) = self.coily {
            mark(grid, 4, c.body.cell());
        }
        for (side, cell) in [(0, (DISC_ROW, -1)), (1, (DISC_ROW, DISC_ROW + 1))] {
            if self.discs[side] {
                mark(grid, 5, cell);
            }
        }
    }

    fn draw(&self, s: &mut Screen) {
        s.copy_from(backdrop(s.channels()));
        for cell in cubes() {
            let (x, y) = cube_xy(cell);
            let top = if self.changed & bit(cell) == 0 {
                [66, 72, 200]
            } else {
                [210, 210, 64]
            };
            s.rect(Rect::new(x - 11, y, 22, 6), top);
        }
        for (side, cell) in [(0, (DISC_ROW, -1)), (1, (DISC_ROW, DISC_ROW + 1))] {
            if self.discs[side] {
                let (x, y) = cube_xy(cell);
                s.rect(Rect::new(x - 5, y + 2, 10, 3), [200, 72, 200]);
            }
        }
        let figure = |s: &mut Screen, h: &Hopper, rows: &[u8], color: [u8; 3]| {
            let (x, y) = cube_xy(h.cell());
            s.sprite(x - 4, y - 8, rows, 1, 1, color);
        };
        for b in self.balls.iter().flatten() {
            figure(s, b, &[0x3C, 0x7E, 0xFF, 0xFF, 0x7E, 0x3C], [200, 72, 72]);
        }
        if let Some(c) = self.coily {
            let rows: &[u8] = if c.hatched {
                &[0x38, 0x6C, 0x38, 0x18, 0x30, 0x18, 0x0C, 0x7C]
            } else {
                &[0x3C, 0x7E, 0xFF, 0xFF, 0x7E, 0x3C]
            };
            figure(s, &c.body, rows, [146, 70, 192]);
        }
        if !self.falling || self.busy % 4 < 2 {
            figure(
                s,
                &self.qbert,
                &[0x3C, 0x7E, 0xDB, 0xFF, 0xE7, 0x7E, 0x24, 0x66],
                [181, 83, 40],
            );
        }
        self.status.draw(s, [181, 83, 40]);
    }

    /// Hop towards the nearest cube still to change, never off the pyramid
    /// and never onto or next to an enemy; take a disc when cornered.
    fn scripted(&self) -> Action {
        if self.qbert.hop.is_some() || self.busy > 0 {
            return Action::NOOP;
        }
        let at = self.qbert.at;
        let safe = |c: Cell| self.enemy_cells().all(|e| distance(e, c) > 1);
        let todo: Vec<Cell> = cubes().filter(|&c| self.changed & bit(c) == 0).collect();
        let options = HOPS
            .iter()
            .map(|&(a, (dr, dc))| (a, (at.0 + dr, at.1 + dc)));
        let best = options
            .clone()
            .filter(|&(_, c)| on_pyramid(c) && safe(c))
            .min_by_key(|&(_, c)| todo.iter().map(|&t| distance(c, t)).min().unwrap_or(0));
        if let Some((a, _)) = best {
            return a;
        }
        options
            .filter(|&(_, c)| Self::disc_side(c).is_some_and(|s| self.discs[s]))
            .map(|(a, _)| a)
            .next()
            .unwrap_or(Action::NOOP)
    }
}

#[cfg(test)]
mod tests {
    use super::super::screen::{WIDTH, luma};
    use super::*;

    fn game() -> (Qbert, Rng) {
        let mut rng = Rng::new(0);
        let mut g = Qbert::new(&mut rng);
        g.busy = 0;
        (g, rng)
    }

    fn hop(g: &mut Qbert, rng: &mut Rng, a: Action) -> i32 {
        (0..HOP_FRAMES)
            .map(|i| g.frame(if i == 0 { a } else { Action::NOOP }, rng))
            .sum()
    }

    /// Every cube shows its top in the colour of its state and its two
    /// sides (the backdrop), in both pixel formats, and the grayscale frame
    /// is the RGB frame's luma.
    #[test]
    fn frames_show_each_cube_with_its_state_and_sides() {
        let (mut g, _) = game();
        g.changed = 0b1011_0110_0101;
        let (mut gray, mut rgb) = (Screen::new(false), Screen::new(true));
        for _ in 0..2 {
            g.draw(&mut gray);
            g.draw(&mut rgb);
        }
        let at = |x: i32, y: i32| {
            let i = 3 * (y as usize * WIDTH + x as usize);
            [rgb.pixels()[i], rgb.pixels()[i + 1], rgb.pixels()[i + 2]]
        };
        for cell in cubes() {
            let (x, y) = cube_xy(cell);
            let top = if g.changed & bit(cell) == 0 {
                [66, 72, 200]
            } else {
                [210, 210, 64]
            };
            assert_eq!(at(x + 9, y + 1), top, "top of {cell:?}");
            assert_eq!(at(x - 5, y + 19), [45, 87, 176], "left side of {cell:?}");
            assert_eq!(at(x + 5, y + 19), [24, 26, 110], "right side of {cell:?}");
            if x + 12 < WIDTH as i32 {
                assert_eq!(at(x + 12, y + 10), [0, 0, 0], "right of {cell:?}");
            }
        }
        for (i, p) in rgb.pixels().chunks_exact(3).enumerate() {
            assert_eq!(gray.pixels()[i], luma([p[0], p[1], p[2]]), "pixel {i}");
        }
    }

    #[test]
    fn a_new_cube_pays_25_and_the_last_one_the_round_bonus() {
        let (mut g, mut rng) = game();
        assert_eq!(hop(&mut g, &mut rng, Action::RIGHT), CUBE_POINTS);
        assert_eq!(g.qbert.at, (1, 1));
        assert_eq!(
            hop(&mut g, &mut rng, Action::LEFT),
            25,
            "the start cube is not changed by starting on it"
        );
        assert_eq!(hop(&mut g, &mut rng, Action::DOWN), 25);
        assert_eq!(g.qbert.at, (1, 0));
        assert_eq!(
            hop(&mut g, &mut rng, Action::UP),
            0,
            "no points for a cube already changed"
        );
        g.changed = ALL_CUBES & !bit((1, 1));
        assert_eq!(hop(&mut g, &mut rng, Action::RIGHT), 25 + 1000);
        assert_eq!((g.changed, g.round), (0, 1));
    }

    #[test]
    fn hopping_off_costs_a_life_and_a_disc_lures_coily() {
        let (mut g, mut rng) = game();
        hop(&mut g, &mut rng, Action::LEFT);
        for _ in 0..RESPAWN {
            g.frame(Action::NOOP, &mut rng);
        }
        assert_eq!(g.status.lives(), 3);
        let (mut g, mut rng) = game();
        g.qbert = Hopper::new((4, 0));
        g.coily = Some(Coily {
            body: Hopper::new((6, 6)),
            hatched: true,
        });
        assert_eq!(hop(&mut g, &mut rng, Action::LEFT), COILY_POINTS);
        assert!(g.coily.is_none() && !g.discs[0]);
    }
}
