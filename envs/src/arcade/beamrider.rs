//! # Beam Rider (`beamrider-v1`)
//!
//! ## Description
//! Atari 2600 Beam Rider (1984): a ship at the bottom of five beams that
//! recede to the horizon, clearing sectors of white enemy saucers. Rules
//! card — kept: five beams, the ship moving beam to beam (8 frames a move,
//! firing only while on a beam); laser lariats (FIRE) that destroy saucers
//! on their beam; three torpedoes per sector (UP), which also destroy the
//! sector sentinel; saucers that descend, hop between beams and drop bombs;
//! 15 saucers per sector, then the sentinel crosses the horizon; points
//! (44 a saucer, 300 the sentinel, a sector bonus of 100 × sector); three
//! lives, lost to a saucer reaching the ship's beam or a bomb hitting it;
//! the ROM's timings — each sector, and each life, opens with a 460-frame
//! intro before the saucers come, and a lost life takes 220 frames more.
//! Simplified: positions along a beam are a depth (0 at the ship, 160 at
//! the horizon) with the perspective applied only when drawing; no
//! chirpers, blockers or rejuvenators; saucers that reach the bottom of
//! another beam go back to the horizon. Calibrated rather than measured:
//! saucers enter rarely (a free slot fills with probability 1/750 a frame),
//! the rate at which a random player's return and episode length match the
//! ROM's (`benches/anchors/`); with v0's 1/40 (and the ROM's intro) its
//! episodes were half the ROM's length.
//!
//! ## Action Space
//! `discrete(9)`, ALE's minimal set: NOOP, FIRE, UP (torpedo), RIGHT, LEFT,
//! UPRIGHT, UPLEFT, RIGHTFIRE, LEFTFIRE.
//!
//! ## Observation Space
//! Compact view: `10 × 10 × 6` (ship, saucer, bomb, laser, torpedo,
//! sentinel) in beam × depth coordinates (beam b in column 2b + 1, the
//! horizon at the top). Pixel view: see [`super`].
//!
//! ## Rewards
//! Points as listed above.
//!
//! ## Starting State
//! Sector 1, the ship on the middle beam, the intro before the saucers.
//!
//! ## Episode End
//! Terminated when the last life is lost; truncated at the frame cap.
//!
//! ## Arguments
//! The arcade options (see [`super`]).
//!
//! ## Version History
//! - v1: the ROM's intro and lost-life timings, rare saucer entries
//!   (issue 15). Random player, 30 episodes: return 392 → 317, length 272 →
//!   1346 agent steps (ROM: 321, 1286).
//! - v0: first version.

use super::game::{Action, Game, Status};
use super::screen::{Grid, Rect, Screen};
use crate::Rng;

const BEAMS: i32 = 5;
/// Ship positions per beam: a move between beams takes this many frames.
const STEPS: i32 = 8;
/// Depth of the horizon.
const DEPTH: i32 = 160;
const SAUCERS_PER_SECTOR: u32 = 15;
const TORPEDOES: u32 = 3;
const LASER_SPEED: i32 = 4;
const TORPEDO_SPEED: i32 = 6;
const BOMB_SPEED: i32 = 3;
/// How close (in depth) two things on a beam must be to collide.
const REACH: i32 = 5;
/// Frames from the start of a sector (or of a life) until the saucers come:
/// the ROM's sector intro (460 frames of a random player's game, measured).
const INTRO: u32 = 460;
/// Frames of the ROM's lost-life sequence before the next life's intro
/// (measured: ~220 frames from the ship's end to the lives counter).
const DEATH: u32 = 220;
/// A free saucer slot fills with probability 1 / `ENTRY_ODDS` a frame
/// (calibrated, see the rules card).
const ENTRY_ODDS: u64 = 750;
/// Points of a saucer.
pub const SAUCER_POINTS: i32 = 44;
/// Points of the sector sentinel.
pub const SENTINEL_POINTS: i32 = 300;

/// A saucer: its beam and depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saucer {
    /// Beam, 0..5.
    pub beam: i32,
    /// Depth, 0 (the ship) ..= 160 (the horizon).
    pub z: i32,
}

/// Beam Rider's state (see the module docs).
#[derive(Debug, Clone)]
pub struct BeamRider {
    status: Status,
    /// Ship position in eighths of a beam (beam b is at 8b).
    pub ship: i32,
    target: i32,
    /// Saucers on the beams.
    pub saucers: [Option<Saucer>; 3],
    /// Bombs falling down the beams.
    pub bombs: [Option<Saucer>; 3],
    /// The ship's laser (beam, depth).
    pub laser: Option<Saucer>,
    /// The ship's torpedo (beam, depth).
    pub torpedo: Option<Saucer>,
    /// Torpedoes left in this sector.
    pub torpedoes: u32,
    /// Saucers still to destroy in this sector.
    pub remaining: u32,
    /// The sentinel's position in eighths of a beam, once the saucers are cleared.
    pub sentinel: Option<i32>,
    /// Sector, from 1.
    pub sector: i32,
    hold: u32,
}

impl BeamRider {
    fn on_beam(&self) -> Option<i32> {
        (self.ship == self.target * STEPS).then_some(self.target)
    }

    fn next_sector(&mut self) -> i32 {
        let bonus = self.status.award(100 * self.sector);
        self.sector += 1;
        self.remaining = SAUCERS_PER_SECTOR;
        self.torpedoes = TORPEDOES;
        self.sentinel = None;
        self.hold = INTRO;
        bonus
    }

    fn die(&mut self) {
        self.status.lose_life();
        self.saucers = [None; 3];
        self.bombs = [None; 3];
        self.laser = None;
        self.torpedo = None;
        self.hold = DEATH + INTRO;
    }

    /// A projectile moving up its beam: what it hit, by index of `saucers`.
    fn hits(&self, shot: &Saucer) -> Option<usize> {
        self.saucers
            .iter()
            .position(|s| s.is_some_and(|s| s.beam == shot.beam && (s.z - shot.z).abs() <= REACH))
    }
}

/// Screen position of depth `z` on beam position `p` (eighths of a beam):
/// a perspective with the horizon at y = 40 and the ship's line at y = 180,
/// `y = 40 + 140 / (1 + 3 z / DEPTH)`, beams converging towards x = 80.
fn project(p: i32, z: i32) -> (i32, i32, i32) {
    let s = 1.0 / (1.0 + 3.0 * z as f64 / DEPTH as f64);
    let x = 80.0 + (p - 2 * STEPS) as f64 * 4.0 * s;
    (x as i32, (40.0 + 140.0 * s) as i32, (1.0 + 7.0 * s) as i32)
}

impl Game for BeamRider {
    const ACTIONS: &'static [Action] = &[
        Action::NOOP,
        Action::FIRE,
        Action::UP,
        Action::RIGHT,
        Action::LEFT,
        Action::UPRIGHT,
        Action::UPLEFT,
        Action::RIGHTFIRE,
        Action::LEFTFIRE,
    ];
    const CHANNELS: &'static [&'static str] =
        &["ship", "saucer", "bomb", "laser", "torpedo", "sentinel"];
    const FIELD: Rect = Rect::new(-STEPS / 2, 0, BEAMS * STEPS, DEPTH + 1);

    fn new(_rng: &mut Rng) -> BeamRider {
        BeamRider {
            status: Status::new(3),
            ship: 2 * STEPS,
            target: 2,
            saucers: [None; 3],
            bombs: [None; 3],
            laser: None,
            torpedo: None,
            torpedoes: TORPEDOES,
            remaining: SAUCERS_PER_SECTOR,
            sentinel: None,
            sector: 1,
            hold: INTRO,
        }
    }

    fn frame(&mut self, action: Action, rng: &mut Rng) -> i32 {
        let mut reward = 0;
        // The ship: moves beam to beam; fires only from a beam.
        if let Some(beam) = self.on_beam() {
            self.target = (beam + action.dx()).clamp(0, BEAMS - 1);
            if action.fire() && self.laser.is_none() {
                self.laser = Some(Saucer { beam, z: 0 });
            } else if action.dy() < 0 && self.torpedo.is_none() && self.torpedoes > 0 {
                self.torpedoes -= 1;
                self.torpedo = Some(Saucer { beam, z: 0 });
            }
        }
        self.ship += (self.target * STEPS - self.ship).signum();
        // Projectiles.
        if let Some(mut l) = self.laser {
            l.z += LASER_SPEED;
            self.laser = (l.z <= DEPTH).then_some(l);
            if let Some(i) = self.hits(&l) {
                self.saucers[i] = None;
                self.laser = None;
                self.remaining = self.remaining.saturating_sub(1);
                reward += self.status.award(SAUCER_POINTS);
            }
        }
        if let Some(mut t) = self.torpedo {
            t.z += TORPEDO_SPEED;
            self.torpedo = (t.z <= DEPTH).then_some(t);
            if let Some(i) = self.hits(&t) {
                self.saucers[i] = None;
                self.torpedo = None;
                self.remaining = self.remaining.saturating_sub(1);
                reward += self.status.award(SAUCER_POINTS);
            } else if let Some(p) = self.sentinel
                && t.z >= DEPTH - 2 * REACH
                && (p - t.beam * STEPS).abs() <= STEPS / 2
            {
                self.torpedo = None;
                reward += self.status.award(SENTINEL_POINTS);
                reward += self.next_sector();
            }
        }
        if self.hold > 0 {
            self.hold -= 1;
            return reward;
        }
        // The sentinel crosses once the sector's saucers are gone.
        if self.remaining == 0 {
            match self.sentinel {
                None => self.sentinel = Some(-STEPS),
                Some(p) if p > BEAMS * STEPS => reward += self.next_sector(),
                Some(p) => self.sentinel = Some(p + i32::from(rng.below(3) == 0)),
            }
        }
        // Saucers descend, hop, bomb; reaching the ship's beam kills.
        let ship_beam = (self.ship + STEPS / 2) / STEPS;
        let descent = 1 + (self.sector - 1) / 4;
        for i in 0..self.saucers.len() {
            match self.saucers[i] {
                Some(mut s) => {
                    s.z -= descent;
                    if rng.below(48) == 0 {
                        s.beam =
                            (s.beam + if rng.below(2) == 0 { -1 } else { 1 }).clamp(0, BEAMS - 1);
                    }
                    if rng.below(160) == 0
                        && let Some(slot) = self.bombs.iter_mut().find(|b| b.is_none())
                    {
                        *slot = Some(s);
                    }
                    if s.z <= 0 {
                        if s.beam == ship_beam {
                            self.die();
                            return reward;
                        }
                        s.z = DEPTH;
                    }
                    self.saucers[i] = Some(s);
                }
                None if self.remaining as usize > i && rng.below(ENTRY_ODDS) == 0 => {
                    self.saucers[i] = Some(Saucer {
                        beam: rng.below(BEAMS as u64) as i32,
                        z: DEPTH,
                    });
                }
                None => {}
            }
        }
        for i in 0..self.bombs.len() {
            if let Some(mut b) = self.bombs[i] {
                b.z -= BOMB_SPEED;
                if b.z <= REACH && b.beam == ship_beam {
                    self.die();
                    return reward;
                }
                self.bombs[i] = (b.z > 0).then_some(b);
            }
        }
        reward
    }

    fn status(&self) -> &Status {
        &self.status
    }

    fn compact(&self, grid: &mut Grid) {
        let mut mark = |channel, s: Option<Saucer>| {
            if let Some(s) = s {
                grid.point(channel, s.beam * STEPS, DEPTH - s.z);
            }
        };
        for &s in &self.saucers {
            mark(1, s);
        }
        for &b in &self.bombs {
            mark(2, b);
        }
        mark(3, self.laser);
        mark(4, self.torpedo);
        grid.point(0, self.ship, DEPTH);
        if let Some(p) = self.sentinel {
            grid.point(5, p, 0);
        }
    }

    fn draw(&self, s: &mut Screen) {
        const BEAM: [u8; 3] = [84, 92, 214];
        s.clear([0, 0, 0]);
        for beam in 0..BEAMS {
            for z in (0..DEPTH).step_by(8) {
                let (x, y, _) = project(beam * STEPS, z);
                s.rect(Rect::new(x, y, 1, 2), BEAM);
            }
        }
        for z in [0, DEPTH / 4, DEPTH / 2] {
            let ((x0, y, _), (x1, _, _)) = (
                project(-STEPS / 2, z),
                project(BEAMS * STEPS - STEPS / 2, z),
            );
            s.rect(Rect::new(x0, y, x1 - x0, 1), BEAM);
        }
        let mut blob = |p: i32, z: i32, color: [u8; 3]| {
            let (x, y, size) = project(p, z);
            s.rect(Rect::new(x - size / 2, y - size, size, size), color);
        };
        for sc in self.saucers.iter().flatten() {
            blob(sc.beam * STEPS, sc.z, [214, 214, 214]);
        }
        for b in self.bombs.iter().flatten() {
            blob(b.beam * STEPS, b.z, [200, 72, 72]);
        }
        if let Some(l) = self.laser {
            blob(l.beam * STEPS, l.z, [252, 252, 84]);
        }
        if let Some(t) = self.torpedo {
            blob(t.beam * STEPS, t.z, [252, 144, 84]);
        }
        if let Some(p) = self.sentinel {
            blob(p, DEPTH - 4, [200, 72, 200]);
        }
        let (x, y, _) = project(self.ship, 0);
        s.sprite(
            x - 8,
            y,
            &[0x18, 0x3C, 0x7E, 0xFF, 0xDB, 0x81],
            2,
            2,
            [252, 188, 116],
        );
        for i in 0..self.torpedoes as i32 {
            s.rect(Rect::new(8 + 6 * i, 6, 4, 6), [252, 144, 84]);
        }
        self.status.draw(s, [252, 188, 116]);
    }

    /// Torpedo the sentinel when it is over the ship's beam; leave a beam a
    /// bomb or low saucer is coming down; shoot a saucer on the ship's
    /// beam; otherwise move under the lowest saucer.
    fn scripted(&self) -> Action {
        let Some(beam) = self.on_beam() else {
            return Action::NOOP;
        };
        if let Some(p) = self.sentinel
            && self.torpedoes > 0
            && (p + 2 - beam * STEPS).abs() <= 2
        {
            return Action::UP;
        }
        let danger = |b: i32| {
            self.bombs.iter().flatten().any(|s| s.beam == b && s.z < 50)
                || self
                    .saucers
                    .iter()
                    .flatten()
                    .any(|s| s.beam == b && s.z < 20)
        };
        if danger(beam) {
            let side = [beam - 1, beam + 1]
                .into_iter()
                .find(|&b| (0..BEAMS).contains(&b) && !danger(b));
            return side.map_or(Action::FIRE, |b| Action::from_parts(b - beam, 0, false));
        }
        if self.saucers.iter().flatten().any(|s| s.beam == beam) {
            return Action::FIRE;
        }
        match self.saucers.iter().flatten().min_by_key(|s| s.z) {
            Some(s) if s.beam != beam => Action::from_parts(s.beam - beam, 0, false),
            _ => Action::NOOP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn game() -> (BeamRider, Rng) {
        let mut rng = Rng::new(1);
        let mut g = BeamRider::new(&mut rng);
        g.hold = 0;
        (g, rng)
    }

    #[test]
    fn saucers_come_only_after_the_intro_which_a_lost_life_replays() {
        let mut rng = Rng::new(1);
        let mut g = BeamRider::new(&mut rng);
        for _ in 0..INTRO {
            g.frame(Action::FIRE, &mut rng);
            assert!(g.saucers.iter().all(Option::is_none));
        }
        g.bombs[0] = Some(Saucer { beam: 2, z: 1 });
        g.frame(Action::NOOP, &mut rng);
        assert_eq!((g.status.lives(), g.hold), (2, DEATH + INTRO));
    }

    #[test]
    fn a_laser_destroys_a_saucer_on_its_beam() {
        let (mut g, mut rng) = game();
        g.saucers[0] = Some(Saucer { beam: 2, z: 12 });
        let points: i32 = (0..3).map(|_| g.frame(Action::FIRE, &mut rng)).sum();
        assert_eq!(points, SAUCER_POINTS);
        assert_eq!(g.remaining, SAUCERS_PER_SECTOR - 1);
    }

    #[test]
    fn the_sentinel_pays_with_the_sector_bonus_and_bombs_kill() {
        let (mut g, mut rng) = game();
        g.remaining = 0;
        g.sentinel = Some(2 * STEPS);
        g.torpedo = Some(Saucer {
            beam: 2,
            z: DEPTH - 12,
        });
        assert_eq!(g.frame(Action::NOOP, &mut rng), SENTINEL_POINTS + 100);
        assert_eq!(
            (g.sector, g.remaining, g.torpedoes),
            (2, SAUCERS_PER_SECTOR, TORPEDOES)
        );
        g.hold = 0;
        g.bombs[0] = Some(Saucer { beam: 2, z: 6 });
        g.frame(Action::NOOP, &mut rng);
        assert_eq!(g.status.lives(), 2);
    }
}
