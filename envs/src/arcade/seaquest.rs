//! # Seaquest (`seaquest-v1`)
//!
//! ## Description
//! Atari 2600 Seaquest (1983): a submarine shooting sharks and enemy subs,
//! rescuing divers, surfacing for air. Rules card — kept: four lanes where
//! sharks and enemy subs cross (subs fire torpedoes along their lane),
//! divers drifting across the lanes (up to six aboard), one torpedo of
//! yours at a time in the direction the sub faces, oxygen that runs out
//! under water (64 units, one per 32 frames: a life), surfacing after a
//! dive of 14 pixels or more — with no diver aboard a life is lost, with
//! one to five one diver leaves, with six all leave for a bonus and the
//! next level, where enemies are faster and worth more (20 + 10 per level,
//! at most 90) — oxygen refilled at the surface before diving again, four
//! lives; the ROM's timings (measured): each life starts with an empty tank
//! that fills in 128 frames, a lost life takes 93 frames, enemies cross at
//! 3/8 pixel per frame on the first two levels, the torpedo at 5.
//! Simplified: one enemy per lane at a time, no surface patrol sub, the
//! bonus is 50 per diver plus 20 per oxygen unit left.
//!
//! ## Action Space
//! `discrete(18)`: ALE's minimal set for Seaquest is the full set (stick
//! moves the sub, the button fires).
//!
//! ## Observation Space
//! Compact view: `10 × 10 × 10` (sub, sub front, torpedo, shark, enemy sub,
//! enemy trail — where each enemy was, giving its direction —, enemy
//! torpedo, diver, oxygen gauge, divers-aboard gauge; gauges fill the bottom
//! row) over the water. Pixel view: see [`super`].
//!
//! ## Rewards
//! Points for each enemy shot and the bonus for surfacing with six divers.
//!
//! ## Starting State
//! The sub at the surface with an empty tank filling up, empty lanes.
//!
//! ## Episode End
//! Terminated when the last life is lost; truncated at the frame cap.
//!
//! ## Arguments
//! The arcade options (see [`super`]).
//!
//! ## Version History
//! - v1: the ROM's timings (refill, lost life, enemy and torpedo speeds)
//!   and its 14-pixel dive before surfacing counts (issue 15). Random
//!   player, 30 episodes: return 20.7 → 60.0, length 114 → 493 agent steps
//!   (ROM: 79, 538; over 300 episodes ours average 77, 533).
//! - v0: first version.

use super::game::{Action, Game, Status};
use super::screen::{Grid, Rect, Screen};
use crate::Rng;

const SURFACE: i32 = 46;
const FLOOR: i32 = 152;
const MIN_X: i32 = 21;
const MAX_X: i32 = 134;
const SUB_W: i32 = 16;
const SUB_H: i32 = 8;
const ENEMY_W: i32 = 12;
const ENEMY_H: i32 = 8;
/// Top of each of the four lanes.
const LANES: [i32; 4] = [69, 93, 117, 141];
/// Oxygen units in a full tank.
pub const OXYGEN_MAX: i32 = 64;
/// Frames under water per oxygen unit.
const OXYGEN_PERIOD: u32 = 32;
/// Most divers aboard.
pub const MAX_DIVERS: u32 = 6;
/// The sub's torpedo, pixels per frame (the ROM's, measured).
const TORPEDO_SPEED: i32 = 5;
/// How deep (pixels below the surface) the sub must dive before coming
/// back up counts as surfacing: on the ROM a 14-pixel dive counts and a
/// 13-pixel one does not (measured with `benches/anchors/`), so bobbing at
/// the surface is safe.
const DIVE_DEPTH: i32 = 14;
/// Frames of a lost life's sequence (the sub's end, then the refill
/// starts): the ROM's, measured from surfacing empty to the next life.
const DEATH_FRAMES: u32 = 93;
/// Frames per oxygen unit refilled at the surface: every life starts with
/// an empty tank that fills in 128 frames before the sub may dive (the ROM).
const REFILL_PERIOD: u32 = 2;

/// What swims in a lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Rams the sub.
    Shark,
    /// Rams the sub and fires along its lane.
    Sub,
}

/// An enemy crossing its lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enemy {
    /// Left edge.
    pub x: i32,
    /// Direction of travel, ±1.
    pub dir: i32,
    /// Shark or sub.
    pub kind: Kind,
}

/// Seaquest's state (see the module docs).
#[derive(Debug, Clone)]
pub struct Seaquest {
    status: Status,
    /// Top-left of the sub.
    pub sub: (i32, i32),
    /// The direction the sub faces, ±1.
    pub facing: i32,
    /// The sub's torpedo: left edge, top, direction.
    pub torpedo: Option<(i32, i32, i32)>,
    /// The enemy in each lane.
    pub enemies: [Option<Enemy>; 4],
    /// The enemy torpedo in each lane: left edge, direction.
    pub shots: [Option<(i32, i32)>; 4],
    /// The diver in each lane: left edge, direction.
    pub divers: [Option<(i32, i32)>; 4],
    /// Oxygen left.
    pub oxygen: i32,
    /// Divers aboard.
    pub carried: u32,
    /// Rescue rounds completed.
    pub level: i32,
    /// Whether the sub has been at the surface since it last dived
    /// `DIVE_DEPTH` pixels or more.
    surfaced: bool,
    tick: u32,
    /// Frames left of a lost life's sequence, during which nothing moves.
    dying: u32,
}

impl Seaquest {
    fn sub_rect(&self) -> Rect {
        Rect::new(self.sub.0, self.sub.1, SUB_W, SUB_H)
    }

    /// Pixels the enemies move this frame. Their speed is in eighths of a
    /// pixel per frame: 3 on the first two levels (the ROM's sharks cross
    /// 3 pixels every 8 frames, measured), 6 on the next two, 9 after;
    /// spreading it over frames keeps positions whole pixels.
    fn enemy_step(&self) -> i32 {
        let eighths = 3 * (1 + (self.level / 2).min(2)) as u32;
        let moved = |t: u32| (t as u64 * eighths as u64 / 8) as i32;
        moved(self.tick) - moved(self.tick.wrapping_sub(1))
    }

    /// Points for an enemy at the current level.
    pub fn kill_points(&self) -> i32 {
        (20 + 10 * self.level).min(90)
    }

    /// Lose a life and start again at the surface, lanes cleared.
    fn die(&mut self) {
        self.status.lose_life();
        self.sub = ((MIN_X + MAX_X) / 2, SURFACE);
        self.facing = 1;
        self.torpedo = None;
        self.enemies = [None; 4];
        self.shots = [None; 4];
        self.divers = [None; 4];
        self.oxygen = 0;
        self.carried = 0;
        self.surfaced = true;
        self.dying = DEATH_FRAMES;
    }

    /// The sub has just come up: the rules of surfacing (see the module docs).
    fn surface(&mut self) -> i32 {
        self.surfaced = true;
        self.torpedo = None;
        match self.carried {
            0 => {
                self.die();
                0
            }
            MAX_DIVERS => {
                let bonus = 50 * MAX_DIVERS as i32 + 20 * self.oxygen;
                self.carried = 0;
                self.level += 1;
                self.enemies = [None; 4];
                self.shots = [None; 4];
                self.status.award(bonus)
            }
            _ => {
                self.carried -= 1;
                0
            }
        }
    }

    fn lane_of(&self, y: i32) -> Option<usize> {
        LANES.iter().position(|&l| (y - l).abs() < ENEMY_H)
    }
}

impl Game for Seaquest {
    const ACTIONS: &'static [Action] = &Action::ALL;
    const CHANNELS: &'static [&'static str] = &[
        "sub",
        "sub_front",
        "torpedo",
        "shark",
        "enemy_sub",
        "enemy_trail",
        "enemy_torpedo",
        "diver",
        "oxygen",
        "divers_aboard",
    ];
    const FIELD: Rect = Rect::new(0, SURFACE, 160, FLOOR + SUB_H - SURFACE);

    fn new(_rng: &mut Rng) -> Seaquest {
        Seaquest {
            status: Status::new(4),
            sub: ((MIN_X + MAX_X) / 2, SURFACE),
            facing: 1,
            torpedo: None,
            enemies: [None; 4],
            shots: [None; 4],
            divers: [None; 4],
            oxygen: 0,
            carried: 0,
            level: 0,
            surfaced: true,
            tick: 0,
            dying: 0,
        }
    }

    fn frame(&mut self, action: Action, rng: &mut Rng) -> i32 {
        self.tick = self.tick.wrapping_add(1);
        if self.dying > 0 {
            self.dying -= 1;
            return 0;
        }
        let mut reward = 0;
        // The sub: at the surface it refills before it may dive.
        let refilling = self.sub.1 == SURFACE && self.oxygen < OXYGEN_MAX;
        let dy = if refilling {
            action.dy().min(0)
        } else {
            action.dy()
        };
        self.sub.0 = (self.sub.0 + action.dx()).clamp(MIN_X, MAX_X);
        self.sub.1 = (self.sub.1 + dy).clamp(SURFACE, FLOOR);
        if action.dx() != 0 {
            self.facing = action.dx();
        }
        if self.sub.1 == SURFACE {
            if !self.surfaced {
                reward += self.surface();
            }
            if self.tick.is_multiple_of(REFILL_PERIOD) {
                self.oxygen = (self.oxygen + 1).min(OXYGEN_MAX);
            }
        } else {
            self.surfaced &= self.sub.1 < SURFACE + DIVE_DEPTH;
            if self.tick.is_multiple_of(OXYGEN_PERIOD) {
                self.oxygen -= 1;
                if self.oxygen <= 0 {
                    self.die();
                    return reward;
                }
            }
            if action.fire() && self.torpedo.is_none() {
                let x = if self.facing > 0 {
                    self.sub.0 + SUB_W
                } else {
                    self.sub.0 - 8
                };
                self.torpedo = Some((x, self.sub.1 + 3, self.facing));
            }
        }
        // The torpedo.
        if let Some((x, y, d)) = self.torpedo {
            let x = x + d * TORPEDO_SPEED;
            let r = Rect::new(x, y, 8, 2);
            self.torpedo = (-8..160).contains(&x).then_some((x, y, d));
            for (lane, &top) in LANES.iter().enumerate() {
                if let Some(e) = self.enemies[lane]
                    && r.overlaps(&Rect::new(e.x, top, ENEMY_W, ENEMY_H))
                {
                    self.enemies[lane] = None;
                    self.torpedo = None;
                    reward += self.status.award(self.kill_points());
                    break;
                }
            }
        }
        // The lanes: enemies, their torpedoes, divers; spawns.
        let speed = self.enemy_step();
        for lane in 0..LANES.len() {
            if let Some(e) = &mut self.enemies[lane] {
                e.x += e.dir * speed;
                if e.kind == Kind::Sub
                    && self.shots[lane].is_none()
                    && (0..150).contains(&e.x)
                    && rng.below(64) == 0
                {
                    self.shots[lane] = Some((e.x + if e.dir > 0 { ENEMY_W } else { -6 }, e.dir));
                }
                if !(-ENEMY_W..=160).contains(&e.x) {
                    self.enemies[lane] = None;
                }
            } else if rng.below(120) == 0 {
                let dir = if rng.below(2) == 0 { 1 } else { -1 };
                let kind = if rng.below(3) == 0 {
                    Kind::Sub
                } else {
                    Kind::Shark
                };
                self.enemies[lane] = Some(Enemy {
                    x: if dir > 0 { -ENEMY_W } else { 160 },
                    dir,
                    kind,
                });
            }
            if let Some((x, d)) = self.shots[lane] {
                let x = x + d * (speed + 2);
                self.shots[lane] = (-6..160).contains(&x).then_some((x, d));
            }
            match self.divers[lane] {
                Some((x, d)) if self.tick.is_multiple_of(2) => {
                    self.divers[lane] = (-8..=160).contains(&(x + d)).then_some((x + d, d));
                }
                None if rng.below(400) == 0 => {
                    let d = if rng.below(2) == 0 { 1 } else { -1 };
                    self.divers[lane] = Some((if d > 0 { -8 } else { 160 }, d));
                }
                _ => {}
            }
        }
        // Collisions with the sub.
        let sub = self.sub_rect();
        for (lane, &top) in LANES.iter().enumerate() {
            let hit_enemy = self.enemies[lane]
                .is_some_and(|e| sub.overlaps(&Rect::new(e.x, top, ENEMY_W, ENEMY_H)));
            let hit_shot =
                self.shots[lane].is_some_and(|(x, _)| sub.overlaps(&Rect::new(x, top + 3, 6, 2)));
            if hit_enemy || hit_shot {
                self.die();
                return reward;
            }
            if let Some((x, _)) = self.divers[lane]
                && self.carried < MAX_DIVERS
                && sub.overlaps(&Rect::new(x, top, 8, ENEMY_H))
            {
                self.divers[lane] = None;
                self.carried += 1;
            }
        }
        reward
    }

    fn status(&self) -> &Status {
        &self.status
    }

    fn compact(&self, grid: &mut Grid) {
        let (x, y) = self.sub;
        grid.rect(0, self.sub_rect());
        grid.point(
            1,
            if self.facing > 0 { x + SUB_W } else { x - 1 },
            y + SUB_H / 2,
        );
        if let Some((tx, ty, _)) = self.torpedo {
            grid.point(2, tx, ty);
        }
        for (lane, &top) in LANES.iter().enumerate() {
            let ly = top + ENEMY_H / 2;
            if let Some(e) = self.enemies[lane] {
                let channel = if e.kind == Kind::Shark { 3 } else { 4 };
                grid.point(channel, e.x + ENEMY_W / 2, ly);
                grid.point(5, e.x + ENEMY_W / 2 - e.dir * ENEMY_W, ly);
            }
            if let Some((sx, _)) = self.shots[lane] {
                grid.point(6, sx, ly);
            }
            if let Some((dx, _)) = self.divers[lane] {
                grid.point(7, dx + 4, ly);
            }
        }
        grid.gauge(8, self.oxygen as f64 / OXYGEN_MAX as f64);
        grid.gauge(9, self.carried as f64 / MAX_DIVERS as f64);
    }

    fn draw(&self, s: &mut Screen) {
        const YELLOW: [u8; 3] = [187, 187, 53];
        s.clear([0, 28, 136]);
        s.rect(Rect::new(0, 0, 160, SURFACE), [24, 26, 167]);
        s.rect(Rect::new(0, SURFACE + 4, 160, 2), [45, 50, 184]);
        s.rect(Rect::new(0, FLOOR + SUB_H + 2, 160, 48), [142, 142, 142]);
        let (x, y) = self.sub;
        let hull: [u8; 8] = if self.facing > 0 {
            [0x08, 0x08, 0x3C, 0xFF, 0xFF, 0x7E, 0, 0]
        } else {
            [0x10, 0x10, 0x3C, 0xFF, 0xFF, 0x7E, 0, 0]
        };
        s.sprite(x, y, &hull, 2, 1, YELLOW);
        if let Some((tx, ty, _)) = self.torpedo {
            s.rect(Rect::new(tx, ty, 8, 2), YELLOW);
        }
        for (lane, &top) in LANES.iter().enumerate() {
            let ly = top;
            if let Some(e) = self.enemies[lane] {
                let (rows, color): ([u8; 8], [u8; 3]) = match e.kind {
                    Kind::Shark => ([0, 0x81, 0xC3, 0xFF, 0xFE, 0xC3, 0x81, 0], [92, 186, 92]),
                    Kind::Sub => ([0x18, 0x18, 0x7E, 0xFF, 0xFF, 0x7E, 0, 0], [170, 170, 170]),
                };
                s.sprite(e.x, ly, &rows, 1, 1, color);
            }
            if let Some((sx, _)) = self.shots[lane] {
                s.rect(Rect::new(sx, ly + 3, 6, 2), [170, 170, 170]);
            }
            if let Some((dx, _)) = self.divers[lane] {
                s.sprite(
                    dx,
                    ly,
                    &[0x30, 0x30, 0x7C, 0xB4, 0x30, 0x48, 0x84, 0],
                    1,
                    1,
                    [66, 72, 200],
                );
            }
        }
        s.rect(Rect::new(48, 172, OXYGEN_MAX, 5), [214, 214, 214]);
        s.rect(
            Rect::new(48 + self.oxygen, 172, OXYGEN_MAX - self.oxygen, 5),
            [200, 72, 72],
        );
        for i in 0..self.carried as i32 {
            s.rect(Rect::new(48 + 10 * i, 182, 6, 8), [66, 72, 200]);
        }
        self.status.draw(s, YELLOW);
    }

    /// A lane keeper: it waits in the gaps between lanes, where nothing
    /// can hit it, and enters a lane only to shoot an enemy still far
    /// enough away to be hit first (the torpedo is 13× faster) or to pick
    /// up a diver; it leaves a lane when an enemy torpedo comes, and crosses
    /// a lane only when its enemy is not near. It surfaces with six divers,
    /// or with one or more when the oxygen runs low.
    fn scripted(&self) -> Action {
        let (x, y) = self.sub;
        let cx = x + SUB_W / 2;
        if y == SURFACE && self.oxygen < OXYGEN_MAX {
            return Action::NOOP;
        }
        // A lane is unsafe to be in when its enemy is within `reach`
        // pixels of the sub or an enemy torpedo is coming at it.
        let unsafe_lane = |lane: usize, reach: i32| {
            self.enemies[lane].is_some_and(|e| (e.x + ENEMY_W / 2 - cx).abs() < reach)
                || self.shots[lane]
                    .is_some_and(|(sx, d)| (cx - sx) * d > -SUB_W && (cx - sx).abs() < 56)
        };
        // Shoot the enemy in the sub's lane when the torpedo can hit it:
        // fired at y + 3, 2 high, it meets an enemy at `top`, 8 high, for
        // |y − top| < 5.
        let here = LANES.iter().position(|&top| (y - top).abs() < 5);
        let aim = here
            .and_then(|l| self.enemies[l])
            .map(|e| (e.x + ENEMY_W / 2 - cx).signum());
        let surfacing = self.carried == MAX_DIVERS || (self.oxygen < 16 && self.carried > 0);
        let nearest =
            |lanes: &mut dyn Iterator<Item = usize>| lanes.min_by_key(|&l| (LANES[l] - y).abs());
        let diver = nearest(&mut (0..4).filter(|&l| {
            self.divers[l].is_some() && self.carried < MAX_DIVERS && !unsafe_lane(l, 40)
        }));
        let enemy =
            nearest(&mut (0..4).filter(|&l| self.enemies[l].is_some() && !unsafe_lane(l, 28)));
        let target = match (surfacing, diver.or(enemy)) {
            (true, _) => SURFACE,
            (false, Some(l)) => LANES[l],
            // The gap between the first two lanes.
            (false, None) => LANES[0] + 12,
        };
        // Move up or down unless that enters a lane whose enemy is near
        // (the target lane's enemy may be nearer: it will be shot).
        let mut dy = (target - y).signum();
        if let Some(l) = self.lane_of(y + 4 * dy)
            && self.lane_of(y) != Some(l)
            && unsafe_lane(l, if LANES[l] == target { 28 } else { 44 })
        {
            dy = 0;
        }
        // In a lane with an enemy torpedo coming (reach 0: the torpedo alone
        // counts): leave it for the nearer gap.
        if let Some(l) = self.lane_of(y)
            && unsafe_lane(l, 0)
        {
            dy = if y < LANES[l] { -1 } else { 1 };
        }
        let dx = match (aim, here.and_then(|l| self.divers[l])) {
            (Some(toward), _) if toward != self.facing => toward,
            (Some(_), _) => 0,
            (None, Some((dxr, _))) if self.carried < MAX_DIVERS => (dxr + 4 - cx).signum(),
            _ => (80 - cx).signum() * i32::from((80 - cx).abs() > 24),
        };
        Action::from_parts(dx, dy, aim.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn game() -> (Seaquest, Rng) {
        let mut rng = Rng::new(3);
        (Seaquest::new(&mut rng), rng)
    }

    #[test]
    fn running_out_of_oxygen_costs_a_life() {
        let (mut g, mut rng) = game();
        g.sub = (76, 100);
        g.surfaced = false;
        g.oxygen = 1;
        let lives = g.status.lives();
        for _ in 0..OXYGEN_PERIOD {
            g.enemies = [None; 4];
            g.shots = [None; 4];
            g.frame(Action::NOOP, &mut rng);
        }
        assert_eq!(g.status.lives(), lives - 1);
        assert_eq!((g.sub.1, g.oxygen), (SURFACE, 0));
        // The lost life's sequence, then the refill: the sub stays up until full.
        let mut frames = 0;
        while g.oxygen < OXYGEN_MAX {
            g.enemies = [None; 4];
            g.shots = [None; 4];
            g.frame(Action::DOWN, &mut rng);
            assert_eq!(g.sub.1, SURFACE);
            frames += 1;
        }
        let refill = REFILL_PERIOD * OXYGEN_MAX as u32;
        assert!((DEATH_FRAMES + refill - 1..=DEATH_FRAMES + refill).contains(&frames));
        g.frame(Action::DOWN, &mut rng);
        assert_eq!(g.sub.1, SURFACE + 1);
    }

    #[test]
    fn bobbing_at_the_surface_is_not_surfacing() {
        let (mut g, mut rng) = game();
        g.oxygen = OXYGEN_MAX;
        let lives = g.status.lives();
        for action in [Action::DOWN, Action::UP] {
            for _ in 0..DIVE_DEPTH - 1 {
                g.enemies = [None; 4];
                g.frame(action, &mut rng);
            }
        }
        assert_eq!((g.sub.1, g.status.lives()), (SURFACE, lives));
        for action in [Action::DOWN, Action::UP] {
            for _ in 0..DIVE_DEPTH {
                g.enemies = [None; 4];
                g.shots = [None; 4];
                g.frame(action, &mut rng);
            }
        }
        assert_eq!(g.status.lives(), lives - 1, "surfacing empty costs a life");
    }

    #[test]
    fn shooting_and_surfacing_score_by_the_rules() {
        let (mut g, mut rng) = game();
        g.sub = (40, LANES[2]);
        g.surfaced = false;
        g.enemies[2] = Some(Enemy {
            x: 70,
            dir: -1,
            kind: Kind::Shark,
        });
        let mut points = 0;
        for _ in 0..4 {
            points += g.frame(Action::RIGHTFIRE, &mut rng);
        }
        assert_eq!(points, 20);
        // Six divers aboard: surfacing pays 50 each plus 20 per oxygen unit, next level.
        g.enemies = [None; 4];
        g.shots = [None; 4];
        g.sub = (76, SURFACE + 1);
        g.carried = MAX_DIVERS;
        g.oxygen = 10;
        assert_eq!(g.frame(Action::UP, &mut rng), 300 + 200);
        assert_eq!((g.level, g.carried, g.kill_points()), (1, 0, 30));
        // Surfacing with no diver costs a life.
        let lives = g.status.lives();
        g.oxygen = OXYGEN_MAX;
        g.sub.1 = SURFACE + 1;
        g.surfaced = false;
        g.enemies = [None; 4];
        g.frame(Action::UP, &mut rng);
        assert_eq!(g.status.lives(), lives - 1);
    }
}
