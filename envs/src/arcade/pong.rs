//! # Pong (`pong-v1`)
//!
//! ## Description
//! Atari 2600 Video Olympics' Pong: a paddle duel against a computer
//! opponent, first to 21 points. Rules card — kept: the player's paddle on
//! the right, the computer's on the left, walls at the top and bottom, the
//! ball's vertical speed set by where it meets the paddle (six zones, steeper
//! at the edges), 21 points ends the match; the ROM's serve — 63 frames
//! after each point, towards whoever lost it (the opponent at the start), the
//! ball crossing 1 pixel per frame (measured). The opponent follows the ball
//! only while it approaches and at most 2 pixels per frame, so steep shots
//! that it must chase across a bounce beat it — the skill to learn.
//! Simplified: constant paddle speeds (no inertia), integer velocities
//! (|vx| = 1, |vy| ≤ 3 pixels per frame, no speed-up during a rally). A
//! random player wins a point or two more than on the ROM (−18.9 against
//! −20.1 over 30 episodes) and its matches last 20% longer; both within the
//! suite's tolerance (`benches/README.md`), so we keep the simpler opponent.
//!
//! ## Action Space
//! `discrete(6)`, ALE's minimal set: NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE,
//! LEFTFIRE; as in ALE, RIGHT moves the paddle up and LEFT down, and FIRE
//! does nothing.
//!
//! ## Observation Space
//! Compact view: `10 × 10 × 4` (player paddle, opponent paddle, ball, trail)
//! over the court. Pixel view: see [`super`].
//!
//! ## Rewards
//! +1 for each point won, −1 for each point lost.
//!
//! ## Starting State
//! 0–0, both paddles centred, the first serve (to the opponent) after the
//! pause.
//!
//! ## Episode End
//! Terminated when either side reaches 21; truncated at the frame cap.
//!
//! ## Arguments
//! The arcade options (see [`super`]).
//!
//! ## Version History
//! - v1: the ROM's serve: a 63-frame pause, towards whoever lost the point,
//!   at 1 pixel per frame (issue 15). Random player, 30 episodes: return
//!   −18.5 → −18.9, length 623 → 1119 agent steps (ROM: −20.1, 935).
//! - v0: first version.

use super::game::{Action, Game, Status};
use super::screen::{Grid, Rect, Screen};
use crate::Rng;

const TOP: i32 = 34;
const BOTTOM: i32 = 194;
const PLAYER_X: i32 = 140;
const OPPONENT_X: i32 = 16;
const PADDLE_W: i32 = 4;
const PADDLE_H: i32 = 16;
const PLAYER_SPEED: i32 = 3;
const OPPONENT_SPEED: i32 = 2;
const BALL_W: i32 = 2;
const BALL_H: i32 = 4;
/// Horizontal ball speed, pixels per frame (the ROM's, measured).
const BALL_VX: i32 = 1;
/// Vertical speed by the zone of the paddle the ball meets, top to bottom.
const ZONE_VY: [i32; 6] = [-3, -2, -1, 1, 2, 3];
/// Frames between a point and the next serve (the ROM's, measured).
const SERVE_PAUSE: u32 = 63;
/// Points that win the match.
pub const WINNING_SCORE: i32 = 21;

/// The ball.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ball {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Horizontal velocity (positive: towards the player).
    pub vx: i32,
    /// Vertical velocity (positive: down).
    pub vy: i32,
}

/// Pong's state (see the module docs).
#[derive(Debug, Clone)]
pub struct Pong {
    status: Status,
    /// The opponent's points.
    pub opponent_score: i32,
    /// Top of the player's paddle.
    pub player_y: i32,
    /// Top of the opponent's paddle.
    pub opponent_y: i32,
    /// The ball, unless a serve is pending.
    pub ball: Option<Ball>,
    /// Frames until the next serve.
    pub pause: u32,
    /// Horizontal direction of the next serve: towards whoever lost the
    /// last point (the opponent's side, left, at the start), as the ROM.
    serve_to: i32,
}

/// `y` moved by at most `speed` towards `target`.
fn approach(y: i32, target: i32, speed: i32) -> i32 {
    y + (target - y).clamp(-speed, speed)
}

/// Bounce the ball off a paddle whose top is `top`, if they meet.
fn bounce(ball: &mut Ball, paddle_x: i32, top: i32) -> bool {
    let paddle = Rect::new(paddle_x, top, PADDLE_W, PADDLE_H);
    if !Rect::new(ball.x, ball.y, BALL_W, BALL_H).overlaps(&paddle) {
        return false;
    }
    let zone = ((ball.y + BALL_H / 2 - top) * 6 / PADDLE_H).clamp(0, 5);
    ball.vy = ZONE_VY[zone as usize];
    ball.vx = -ball.vx;
    ball.x = if ball.vx > 0 {
        paddle_x + PADDLE_W
    } else {
        paddle_x - BALL_W
    };
    true
}

impl Game for Pong {
    const ACTIONS: &'static [Action] = &[
        Action::NOOP,
        Action::FIRE,
        Action::RIGHT,
        Action::LEFT,
        Action::RIGHTFIRE,
        Action::LEFTFIRE,
    ];
    const CHANNELS: &'static [&'static str] = &["player", "opponent", "ball", "trail"];
    const FIELD: Rect = Rect::new(0, TOP, 160, BOTTOM - TOP);

    fn new(_rng: &mut Rng) -> Pong {
        let centre = (TOP + BOTTOM - PADDLE_H) / 2;
        Pong {
            status: Status::new(0),
            opponent_score: 0,
            player_y: centre,
            opponent_y: centre,
            ball: None,
            pause: SERVE_PAUSE,
            serve_to: -1,
        }
    }

    fn frame(&mut self, action: Action, rng: &mut Rng) -> i32 {
        self.player_y = (self.player_y - action.dx() * PLAYER_SPEED).clamp(TOP, BOTTOM - PADDLE_H);
        let Some(mut ball) = self.ball else {
            self.pause = self.pause.saturating_sub(1);
            if self.pause == 0 {
                let vy = [-2, -1, 1, 2][rng.below(4) as usize];
                let vx = self.serve_to * BALL_VX;
                self.ball = Some(Ball {
                    x: 79,
                    y: 100 + rng.below(40) as i32,
                    vx,
                    vy,
                });
            }
            return 0;
        };
        // The opponent tracks the ball only while it comes its way.
        let target = if ball.vx < 0 {
            ball.y + BALL_H / 2 - PADDLE_H / 2
        } else {
            (TOP + BOTTOM - PADDLE_H) / 2
        };
        self.opponent_y =
            approach(self.opponent_y, target, OPPONENT_SPEED).clamp(TOP, BOTTOM - PADDLE_H);
        ball.x += ball.vx;
        ball.y += ball.vy;
        if ball.y < TOP || ball.y + BALL_H > BOTTOM {
            ball.y = ball.y.clamp(TOP, BOTTOM - BALL_H);
            ball.vy = -ball.vy;
        }
        if ball.vx > 0 {
            bounce(&mut ball, PLAYER_X, self.player_y);
        } else {
            bounce(&mut ball, OPPONENT_X, self.opponent_y);
        }
        // Past the player's paddle (right) the opponent scores; past the
        // opponent's (left) the player does.
        let reward = if ball.x < 4 {
            self.serve_to = -1;
            self.status.award(1)
        } else if ball.x > 156 {
            self.serve_to = 1;
            self.opponent_score += 1;
            -1
        } else {
            self.ball = Some(ball);
            return 0;
        };
        self.ball = None;
        self.pause = SERVE_PAUSE;
        if self.status.score() == WINNING_SCORE || self.opponent_score == WINNING_SCORE {
            self.status.end();
        }
        reward
    }

    fn status(&self) -> &Status {
        &self.status
    }

    fn compact(&self, grid: &mut Grid) {
        grid.rect(0, Rect::new(PLAYER_X, self.player_y, PADDLE_W, PADDLE_H));
        grid.rect(
            1,
            Rect::new(OPPONENT_X, self.opponent_y, PADDLE_W, PADDLE_H),
        );
        if let Some(b) = self.ball {
            grid.point(2, b.x, b.y);
            grid.point(3, b.x - b.vx, b.y - b.vy);
        }
    }

    fn draw(&self, s: &mut Screen) {
        const WALL: [u8; 3] = [236, 236, 236];
        s.clear([144, 72, 17]);
        s.rect(Rect::new(0, TOP - 10, 160, 10), WALL);
        s.rect(Rect::new(0, BOTTOM, 160, 10), WALL);
        s.rect(
            Rect::new(PLAYER_X, self.player_y, PADDLE_W, PADDLE_H),
            [92, 186, 92],
        );
        s.rect(
            Rect::new(OPPONENT_X, self.opponent_y, PADDLE_W, PADDLE_H),
            [213, 130, 74],
        );
        if let Some(b) = self.ball {
            s.rect(Rect::new(b.x, b.y, BALL_W, BALL_H), WALL);
        }
        s.number(40, 4, self.opponent_score, [213, 130, 74]);
        s.number(136, 4, self.status.score(), [92, 186, 92]);
    }

    /// Meet the ball where it will cross the paddle's line (walls folded
    /// in), near the paddle's top edge, so the return is steep.
    fn scripted(&self) -> Action {
        let target = match self.ball {
            Some(b) if b.vx > 0 => {
                let frames = (PLAYER_X - b.x) / b.vx;
                let span = BOTTOM - TOP - BALL_H;
                let y = (b.y - TOP + b.vy * frames).rem_euclid(2 * span);
                let y = TOP + if y > span { 2 * span - y } else { y };
                y + BALL_H / 2 - 4
            }
            _ => (TOP + BOTTOM) / 2,
        };
        match target - self.player_y {
            // A dead band of ±5 pixels: one agent step moves the paddle 12.
            d if d < -5 => Action::RIGHT,
            d if d > 5 => Action::LEFT,
            _ => Action::NOOP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_plus_one_and_minus_one_and_21_ends_the_match() {
        let mut rng = Rng::new(0);
        let mut g = Pong::new(&mut rng);
        g.player_y = TOP;
        g.ball = Some(Ball {
            x: 155,
            y: 150,
            vx: 2,
            vy: 0,
        });
        assert_eq!(g.frame(Action::NOOP, &mut rng), -1);
        assert!(g.ball.is_none() && g.pause == SERVE_PAUSE);
        g.opponent_y = TOP;
        g.ball = Some(Ball {
            x: 5,
            y: 150,
            vx: -2,
            vy: 0,
        });
        assert_eq!(g.frame(Action::NOOP, &mut rng), 1);
        assert_eq!((g.status.score(), g.opponent_score), (1, 1));
        g.opponent_score = 20;
        g.ball = Some(Ball {
            x: 155,
            y: 150,
            vx: 2,
            vy: 0,
        });
        g.frame(Action::NOOP, &mut rng);
        assert!(g.status.over());
    }

    #[test]
    fn each_serve_waits_the_pause_and_goes_to_whoever_lost_the_point() {
        let mut rng = Rng::new(0);
        let mut g = Pong::new(&mut rng);
        let serve = |g: &mut Pong, rng: &mut Rng| {
            for _ in 0..SERVE_PAUSE - 1 {
                g.frame(Action::NOOP, rng);
                assert!(g.ball.is_none());
            }
            g.frame(Action::NOOP, rng);
            g.ball.expect("served").vx
        };
        assert_eq!(
            serve(&mut g, &mut rng),
            -BALL_VX,
            "the first serve goes left"
        );
        g.ball = Some(Ball {
            x: 156,
            y: 150,
            vx: BALL_VX,
            vy: 0,
        });
        g.player_y = TOP;
        assert_eq!(g.frame(Action::NOOP, &mut rng), -1);
        assert_eq!(serve(&mut g, &mut rng), BALL_VX, "to the player, who lost");
    }

    #[test]
    fn the_paddle_edge_returns_a_steep_ball() {
        let mut rng = Rng::new(0);
        let mut g = Pong::new(&mut rng);
        g.player_y = 100;
        g.ball = Some(Ball {
            x: 137,
            y: 98,
            vx: 2,
            vy: 0,
        });
        assert_eq!(g.frame(Action::NOOP, &mut rng), 0);
        let b = g.ball.unwrap();
        assert_eq!((b.vx, b.vy), (-2, -3));
    }
}
