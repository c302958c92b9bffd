//! # Breakout (`breakout-v1`)
//!
//! ## Description
//! Atari 2600 Breakout (1978): bounce a ball off a paddle into a wall of six
//! rows of 18 bricks. Rules card — kept: the brick rows and their points
//! (7, 7, 4, 4, 1, 1 from the top), FIRE to serve each ball, five balls, the
//! ball's angle set by where it meets the paddle (four zones), the ball
//! speeding up after 4 and 12 hits and on first reaching the top two rows,
//! the paddle halving once the ball reaches the back wall, a second wall
//! after the first is cleared (864 points at most); the ROM's speeds — the
//! ball served at 1 pixel per frame (it falls from y = 113 to the bottom in
//! 96 frames), the paddle moving 6 pixels per frame (both measured).
//! Simplified: integer velocities (|vx| ∈ {1, 2}, |vy| ∈ {1, 2, 3} pixels
//! per frame), one brick per frame, only vertical reflection off bricks, no
//! paddle acceleration; the game ends when the second wall is cleared.
//!
//! ## Action Space
//! `discrete(4)`, ALE's minimal set: NOOP, FIRE (serve), RIGHT, LEFT.
//! With `full_action_set=true`, ALE's 18 (read as stick direction + button).
//!
//! ## Observation Space
//! Compact view: `10 × 10 × 4` (channels: paddle, ball, trail — the ball's
//! previous position, which gives its direction — and brick) over the area
//! inside the walls. Pixel view: see [`super`].
//!
//! ## Rewards
//! The points of each brick broken.
//!
//! ## Starting State
//! A full wall, the paddle centred, no ball in play until FIRE.
//!
//! ## Episode End
//! Terminated when the fifth ball is lost or the second wall is cleared;
//! truncated at the frame cap.
//!
//! ## Arguments
//! The arcade options (see [`super`]).
//!
//! ## Version History
//! - v1: the ROM's serve speed (|vy| 1 → 2 → 3 instead of 2 → 3 → 4) and
//!   paddle speed (6 instead of 3 pixels per frame) (issue 15). Random
//!   player, 30 episodes: return 0.8 → 1.57, length 95 → 193 agent steps
//!   (ROM: 1.6, 195).
//! - v0: first version.

use super::game::{Action, Game, Status};
use super::screen::{Grid, Rect, Screen, bit_runs};
use crate::Rng;

const LEFT_WALL: i32 = 8;
const RIGHT_WALL: i32 = 152;
const TOP_WALL: i32 = 32;
const BRICK_TOP: i32 = 57;
const BRICK_W: i32 = 8;
const BRICK_H: i32 = 6;
const ROWS: usize = 6;
const COLUMNS: i32 = 18;
const FULL_ROW: u32 = (1 << COLUMNS) - 1;
/// Points of a brick, by row from the top.
pub const ROW_POINTS: [i32; ROWS] = [7, 7, 4, 4, 1, 1];
const ROW_COLORS: [[u8; 3]; ROWS] = [
    [200, 72, 72],
    [198, 108, 58],
    [180, 122, 48],
    [162, 162, 42],
    [72, 160, 72],
    [66, 72, 200],
];
const PADDLE_Y: i32 = 189;
const PADDLE_H: i32 = 4;
const PADDLE_W: i32 = 16;
/// Paddle speed, pixels per frame: the ROM's top speed, which its paddle
/// reaches within 5 frames of holding the stick (measured; ours has no
/// acceleration).
const PADDLE_SPEED: i32 = 6;
const BALL_W: i32 = 2;
const BALL_H: i32 = 4;
const LOST_Y: i32 = 200;
/// The paddle's four zones, left to right, and the horizontal speed each gives.
const ZONE_VX: [i32; 4] = [-2, -1, 1, 2];

/// A ball in play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ball {
    /// Top-left corner.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Horizontal velocity, pixels per frame.
    pub vx: i32,
    /// Vertical velocity (positive is down).
    pub vy: i32,
}

impl Ball {
    fn rect(&self) -> Rect {
        Rect::new(self.x, self.y, BALL_W, BALL_H)
    }
}

/// Breakout's state (see the module docs).
#[derive(Debug, Clone)]
pub struct Breakout {
    status: Status,
    /// Bricks left, one bitmask of 18 columns per row (bit c = column c).
    pub bricks: [u32; ROWS],
    /// Left edge of the paddle.
    pub paddle_x: i32,
    paddle_w: i32,
    /// The ball, when one is in play.
    pub ball: Option<Ball>,
    hits: u32,
    reached_top_rows: bool,
    second_wall: bool,
}

impl Breakout {
    /// Each row's runs of adjacent bricks as one rectangle each (a full
    /// wall is six rectangles), with their row.
    fn brick_runs(&self) -> impl Iterator<Item = (usize, Rect)> + '_ {
        self.bricks.iter().enumerate().flat_map(|(row, &bits)| {
            let y = BRICK_TOP + row as i32 * BRICK_H;
            bit_runs(bits, COLUMNS).map(move |(start, len)| {
                let r = Rect::new(LEFT_WALL + start * BRICK_W, y, len * BRICK_W, BRICK_H);
                (row, r)
            })
        })
    }

    /// Vertical speed, pixels per frame: 1 at the serve, as the ROM's (it
    /// serves at y = 113 and loses the ball at y = 208 after 96 frames,
    /// measured), one more after 4 hits and one more after 12 or on first
    /// reaching the top two rows.
    fn speed(&self) -> i32 {
        1 + i32::from(self.hits >= 4) + i32::from(self.hits >= 12 || self.reached_top_rows)
    }

    /// Break the first brick the ball overlaps, if any: its row's points.
    fn hit_brick(&mut self, ball: &Ball) -> Option<usize> {
        let rows = (ball.y - BRICK_TOP).div_euclid(BRICK_H)
            ..=(ball.y + BALL_H - 1 - BRICK_TOP).div_euclid(BRICK_H);
        let cols = (ball.x - LEFT_WALL) / BRICK_W..=(ball.x + BALL_W - 1 - LEFT_WALL) / BRICK_W;
        for row in rows.filter(|r| (0..ROWS as i32).contains(r)) {
            for col in cols.clone() {
                let bit = 1 << col;
                if self.bricks[row as usize] & bit != 0 {
                    self.bricks[row as usize] &= !bit;
                    return Some(row as usize);
                }
            }
        }
        None
    }
}

impl Game for Breakout {
    const ACTIONS: &'static [Action] = &[Action::NOOP, Action::FIRE, Action::RIGHT, Action::LEFT];
    const CHANNELS: &'static [&'static str] = &["paddle", "ball", "trail", "brick"];
    const FIELD: Rect = Rect::new(
        LEFT_WALL,
        TOP_WALL,
        RIGHT_WALL - LEFT_WALL,
        LOST_Y - 4 - TOP_WALL,
    );

    fn new(_rng: &mut Rng) -> Breakout {
        Breakout {
            status: Status::new(5),
            bricks: [FULL_ROW; ROWS],
            paddle_x: (LEFT_WALL + RIGHT_WALL - PADDLE_W) / 2,
            paddle_w: PADDLE_W,
            ball: None,
            hits: 0,
            reached_top_rows: false,
            second_wall: false,
        }
    }

    fn frame(&mut self, action: Action, rng: &mut Rng) -> i32 {
        self.paddle_x = (self.paddle_x + action.dx() * PADDLE_SPEED)
            .clamp(LEFT_WALL, RIGHT_WALL - self.paddle_w);
        let Some(mut ball) = self.ball else {
            if action.fire() {
                let vx = if rng.below(2) == 0 { -1 } else { 1 };
                let x = LEFT_WALL + 16 + rng.below(112) as i32;
                self.ball = Some(Ball {
                    x,
                    y: 110,
                    vx,
                    vy: self.speed(),
                });
            }
            return 0;
        };
        ball.x += ball.vx;
        ball.y += ball.vy;
        if ball.x < LEFT_WALL || ball.x + BALL_W > RIGHT_WALL {
            ball.x = ball.x.clamp(LEFT_WALL, RIGHT_WALL - BALL_W);
            ball.vx = -ball.vx;
        }
        if ball.y < TOP_WALL {
            ball.y = TOP_WALL;
            ball.vy = ball.vy.abs();
            self.paddle_w = PADDLE_W / 2;
        }
        let mut reward = 0;
        if let Some(row) = self.hit_brick(&ball) {
            reward = self.status.award(ROW_POINTS[row]);
            self.hits += 1;
            self.reached_top_rows |= row < 2;
            ball.vy = -ball.vy.signum() * self.speed();
            if self.bricks == [0; ROWS] {
                if self.second_wall {
                    self.status.end();
                } else {
                    self.second_wall = true;
                    self.bricks = [FULL_ROW; ROWS];
                }
            }
        }
        let paddle = Rect::new(self.paddle_x, PADDLE_Y, self.paddle_w, PADDLE_H);
        if ball.vy > 0 && ball.rect().overlaps(&paddle) {
            let zone = ((ball.x + BALL_W / 2 - self.paddle_x) * 4 / self.paddle_w).clamp(0, 3);
            ball.vx = ZONE_VX[zone as usize];
            ball.vy = -self.speed();
            ball.y = PADDLE_Y - BALL_H;
        }
        if ball.y > LOST_Y {
            self.ball = None;
            self.paddle_w = PADDLE_W;
            self.status.lose_life();
        } else {
            self.ball = Some(ball);
        }
        reward
    }

    fn status(&self) -> &Status {
        &self.status
    }

    fn compact(&self, grid: &mut Grid) {
        grid.rect(
            0,
            Rect::new(self.paddle_x, PADDLE_Y, self.paddle_w, PADDLE_H),
        );
        if let Some(b) = self.ball {
            grid.point(1, b.x, b.y);
            grid.point(2, b.x - b.vx, b.y - b.vy);
        }
        for (_, r) in self.brick_runs() {
            grid.rect(3, r);
        }
    }

    fn draw(&self, s: &mut Screen) {
        const WALL: [u8; 3] = [142, 142, 142];
        s.clear([0, 0, 0]);
        s.rect(Rect::new(0, TOP_WALL - 8, 160, 8), WALL);
        s.rect(Rect::new(0, TOP_WALL, LEFT_WALL, 164), WALL);
        s.rect(Rect::new(RIGHT_WALL, TOP_WALL, 8, 164), WALL);
        for (row, r) in self.brick_runs() {
            s.rect(r, ROW_COLORS[row]);
        }
        s.rect(
            Rect::new(self.paddle_x, PADDLE_Y, self.paddle_w, PADDLE_H),
            ROW_COLORS[0],
        );
        if let Some(b) = self.ball {
            s.rect(b.rect(), ROW_COLORS[0]);
        }
        self.status.draw(s, WALL);
    }

    /// Serve; then keep the paddle's centre under the ball.
    fn scripted(&self) -> Action {
        let Some(b) = self.ball else {
            return Action::FIRE;
        };
        let offset = b.x + BALL_W / 2 - (self.paddle_x + self.paddle_w / 2);
        match offset {
            o if o < -self.paddle_w / 4 => Action::LEFT,
            o if o > self.paddle_w / 4 => Action::RIGHT,
            _ => Action::NOOP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn game() -> (Breakout, Rng) {
        let mut rng = Rng::new(0);
        (Breakout::new(&mut rng), rng)
    }

    #[test]
    fn a_brick_gives_its_rows_points_and_reverses_the_ball() {
        let (mut g, mut rng) = game();
        // Just below the bottom row (y 87..93), moving up: the bottom row is worth 1.
        g.ball = Some(Ball {
            x: 40,
            y: 94,
            vx: 1,
            vy: -2,
        });
        assert_eq!(g.frame(Action::NOOP, &mut rng), 1);
        assert_eq!(g.bricks[5], FULL_ROW & !(1 << 4));
        assert!(g.ball.unwrap().vy > 0);
        // With the lower rows gone, the top row is reached: 7 points.
        g.bricks[1..].fill(0);
        g.ball = Some(Ball {
            x: 9,
            y: 65,
            vx: 0,
            vy: -3,
        });
        assert_eq!(g.frame(Action::NOOP, &mut rng), 7);
        assert_eq!(g.status.score(), 8);
    }

    #[test]
    fn serving_needs_fire_and_a_missed_ball_costs_a_life() {
        let (mut g, mut rng) = game();
        assert_eq!(g.frame(Action::NOOP, &mut rng), 0);
        assert!(g.ball.is_none());
        g.frame(Action::FIRE, &mut rng);
        assert!(g.ball.is_some());
        g.paddle_x = LEFT_WALL;
        g.ball = Some(Ball {
            x: 140,
            y: 198,
            vx: 1,
            vy: 3,
        });
        g.frame(Action::NOOP, &mut rng);
        assert!(g.ball.is_none());
        assert_eq!(g.status.lives(), 4);
    }

    #[test]
    fn the_paddle_zone_sets_the_angle() {
        let (mut g, mut rng) = game();
        g.paddle_x = 60;
        g.ball = Some(Ball {
            x: 60,
            y: PADDLE_Y - BALL_H - 1,
            vx: 1,
            vy: 2,
        });
        g.frame(Action::NOOP, &mut rng);
        let b = g.ball.unwrap();
        assert_eq!((b.vx, b.vy), (-2, -1));
    }
}
