//! # Enduro (`enduro-v2`)
//!
//! ## Description
//! Atari 2600 Enduro (1983): an endurance race through days, overtaking a
//! quota of cars before each day ends. Rules card — kept: accelerate (FIRE),
//! brake (DOWN) and steer; +1 for each car overtaken and −1 for each car
//! that overtakes you, but only to take back a pass you made — the counter
//! of cars to pass never rises above the day's quota, so a player who never
//! gets ahead scores 0, never less; a quota of 200 cars on the first day and
//! 300 on each later one, the game over at the end of a day whose quota was
//! not met; a day of 13,312 frames (3 min 42 s, the ROM's first day under
//! ALE); the ROM's speed model, measured (`benches/anchors/ale_enduro.py`):
//! speed 6 to 120, the pedal adding 2 every 8 frames below 46 and 1 above,
//! the brake taking 1 a frame, coasting keeping the speed, all traffic at
//! 24, the first car 2,300 sub-units ahead and one every ~1,100 of road
//! after it; steering that reaches the grass from the middle in ~40
//! frames; grass that takes a quarter of the speed every 40 frames; running
//! into a car drops you to the slowest speed (cars overtaking you do not
//! crash you); curves that push the car outwards in proportion to speed;
//! the day's phases — day, dusk, night (you see only 300 units ahead), fog
//! (150), dawn. Simplified: traffic is at most six cars in three lanes;
//! no snow or ice.
//!
//! ## Action Space
//! `discrete(9)`, ALE's minimal set: NOOP, FIRE (accelerate), RIGHT, LEFT,
//! DOWN (brake), DOWNRIGHT, DOWNLEFT, RIGHTFIRE, LEFTFIRE.
//!
//! ## Observation Space
//! Compact view: `10 × 10 × 5` (your car, other cars, curve — a cell in the
//! top row's left or right corner —, the speed gauge and the day's remaining
//! quota gauge in the bottom row) in road × distance coordinates (lateral
//! −50..50, distance −100..900 with the far end at the top). Pixel view: see
//! [`super`].
//!
//! ## Rewards
//! +1 per car overtaken, −1 per car that overtakes you while you are ahead
//! of the day's starting count (ALE's reward is the change of the ROM's
//! counter of cars passed).
//!
//! ## Starting State
//! Day 1, at the slowest speed in the middle of the road, one car ahead.
//!
//! ## Episode End
//! Terminated at the end of a day whose quota was not met; truncated at the
//! frame cap.
//!
//! ## Arguments
//! The arcade options (see [`super`]).
//!
//! ## Version History
//! - v2: the ROM's speed model and traffic (issue 15): the pedal, brake,
//!   coasting and grass rates, speeds 6–120, traffic at 24 spaced along
//!   the road, steering at the ROM's pace, no crash from cars overtaking
//!   you (v1: the pedal twice as fast, coasting that slowed, traffic ahead
//!   at 16–31 of 64 only above half speed and behind at 36–47, one car per
//!   30 frames, steering twice as fast, grass that only capped the speed).
//!   A uniform-random player still never passes a car (return 0, 3,328
//!   steps, as on the ROM). One pressing FIRE combinations with
//!   probability 0.5 passes a car in 10 of 10 days, the first after a
//!   median ~600 agent steps (ROM: 10 of 10, ~280; v1: 5 of 10, ~1,350),
//!   and keeps 0.1 a day (ROM 0.1, v1 0). At probability 0.75 it keeps
//!   14.9 a day (ROM 1.2, v1 0): more than the ROM, the remaining gap.
//! - v1: being overtaken only takes back passes made; a 13,312-frame day
//!   (issue 15). Random player, 30 episodes: return −162.4 → 0, length
//!   3000 → 3328 agent steps (ROM: 0, 3328).
//! - v0: first version.

use super::game::{Action, Game, Status};
use super::screen::{Grid, Rect, Screen};
use crate::Rng;

/// Sub-units per distance unit: speeds and distances are fixed-point, a
/// speed being sub-units per frame. The scale is the ROM's: its speed byte
/// (RAM 22) runs from 6 to 120, and at 120 we cover 30 units a frame.
const FIX: i32 = 4;
/// Top speed, and the slowest the car goes once the race is on (the ROM's
/// car never stops: its speed byte stays ≥ 6, and a crash drops it to 6).
const MAX_SPEED: i32 = 120;
const MIN_SPEED: i32 = 6;
/// Speed of all traffic: on the ROM a car held at 24 never passes anyone,
/// at 25 it does (measured, `benches/anchors/ale_enduro.py`).
const TRAFFIC_SPEED: i32 = 24;
/// Below this speed the pedal adds 2 every 8 frames, above it 1 (measured:
/// 6 → 46 in 160 frames, 46 → 120 in 592 more).
const SHIFT: i32 = 46;
/// On the grass a quarter of the speed goes every this many frames, pedal
/// or not (measured: 40 → 30 → 23 → 17 steering off the road).
const GRASS_FRAMES: u32 = 40;
/// Half the road's width, units; steering moves you 1 a frame, so from the
/// middle you reach the grass in 43 frames (the ROM: about 40).
const ROAD: i32 = 50;
const CAR_W: i32 = 14;
/// Half a car's length (units): closer than this, in an overlapping lane,
/// is a collision.
const CAR_LEN: i32 = 12;
/// Lateral position of the traffic lanes.
const LANES: [i32; 3] = [-30, 0, 30];
/// How far ahead traffic is kept (and the compact view reaches), where it
/// appears, and how far behind it is kept. `SPAWN` is where the ROM's first
/// car is at the start: held at speed `v`, you pass it after
/// 2,300 / (v − 24) frames (measured for v = 25 … 40), i.e. 2,300 sub-units.
const AHEAD: i32 = 900;
const SPAWN: i32 = 576;
const BEHIND: i32 = -100;
/// Road between two cars of the traffic, sub-units: uniform in
/// `GAP.0 .. GAP.0 + GAP.1`, mean 1,100 — the ROM's spacing (held at 26 and
/// 28, a car passes every 1,100–1,270 sub-units of relative road).
const GAP: (i32, u64) = (800, 600);
/// Frames in a day: 3 min 42 s, the ROM's first day as ALE plays it (a
/// random player, who never meets the quota, lasts 3,328 agent steps of 4
/// frames, measured with `benches/anchors/`).
pub const DAY_FRAMES: u32 = 13_312;
/// Cars to overtake on the first day and on later days.
pub const QUOTAS: [i32; 2] = [200, 300];

/// A car of the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Car {
    /// Lateral position of its centre.
    pub x: i32,
    /// Distance ahead of you, sub-units (negative: behind).
    pub d: i32,
}

/// Enduro's state (see the module docs).
#[derive(Debug, Clone)]
pub struct Enduro {
    status: Status,
    /// Your lateral position (units).
    pub x: i32,
    /// Your speed, sub-units per frame.
    pub speed: i32,
    /// The traffic.
    pub cars: [Option<Car>; 6],
    /// Curve: −1 left, 0 straight, 1 right.
    pub curve: i32,
    curve_timer: u32,
    /// Frames into the current day.
    pub time: u32,
    /// Day, from 1.
    pub day: u32,
    /// Cars still to overtake today (negative once the quota is met).
    pub quota: i32,
    /// Fractional lateral drift carried between frames (sub-units).
    drift: i32,
    /// Road (sub-units, relative to the traffic) until the next car appears.
    gap: i32,
}

impl Enduro {
    /// How far ahead (units) cars can be seen at this time of day.
    pub fn visibility(&self) -> i32 {
        match self.time * 20 / DAY_FRAMES {
            0..=10 => AHEAD,
            11..=12 => 600,
            13..=15 => 300,
            16..=17 => 150,
            _ => 600,
        }
    }

    /// Cars to overtake on the current day.
    fn day_quota(&self) -> i32 {
        QUOTAS[usize::from(self.day > 1)]
    }

    fn visible(&self, c: &Car) -> bool {
        c.d / FIX <= self.visibility()
    }

    fn sky(&self) -> [u8; 3] {
        match self.time * 20 / DAY_FRAMES {
            0..=10 => [45, 109, 152],
            11..=12 => [181, 83, 40],
            13..=15 => [0, 0, 0],
            16..=17 => [111, 111, 111],
            _ => [105, 105, 15],
        }
    }
}

/// Road to the next car of the traffic, sub-units (see [`GAP`]).
fn next_gap(rng: &mut Rng) -> i32 {
    GAP.0 + rng.below(GAP.1) as i32
}

/// Screen placement of a point `d` units ahead at lateral `x`: horizon at
/// y = 100, your car's line at y = 180, `y = 100 + 80 / (1 + d / 100)`;
/// lateral positions shrink by the same factor, and the road's centre
/// shifts with the curve by `24 · curve · (1 − factor)²`.
fn project(x: i32, d: i32, curve: i32) -> (i32, i32, f64) {
    let s = 1.0 / (1.0 + d.max(0) as f64 / 100.0);
    let centre = 80.0 + 24.0 * curve as f64 * (1.0 - s) * (1.0 - s);
    (
        (centre + x as f64 * 1.3 * s) as i32,
        (100.0 + 80.0 * s) as i32,
        s,
    )
}

impl Game for Enduro {
    const ACTIONS: &'static [Action] = &[
        Action::NOOP,
        Action::FIRE,
        Action::RIGHT,
        Action::LEFT,
        Action::DOWN,
        Action::DOWNRIGHT,
        Action::DOWNLEFT,
        Action::RIGHTFIRE,
        Action::LEFTFIRE,
    ];
    const CHANNELS: &'static [&'static str] = &["car", "traffic", "curve", "speed", "quota"];
    const FIELD: Rect = Rect::new(-ROAD, -AHEAD, 2 * ROAD, AHEAD - BEHIND);

    fn new(rng: &mut Rng) -> Enduro {
        let curve_timer = 300 + rng.below(600) as u32;
        let mut cars = [None; 6];
        cars[0] = Some(Car {
            x: LANES[rng.below(3) as usize],
            d: SPAWN * FIX,
        });
        Enduro {
            status: Status::new(0),
            x: 0,
            speed: MIN_SPEED,
            cars,
            curve: 0,
            curve_timer,
            time: 0,
            day: 1,
            quota: QUOTAS[0],
            drift: 0,
            gap: next_gap(rng),
        }
    }

    fn frame(&mut self, action: Action, rng: &mut Rng) -> i32 {
        // Speed (the ROM's, measured): the pedal adds 2 every 8 frames below
        // `SHIFT` and 1 above, the brake takes 1 a frame, and coasting keeps
        // the speed; grass slows.
        self.speed = if action.dy() > 0 {
            self.speed - 1
        } else if action.fire() && self.time.is_multiple_of(8) {
            self.speed + if self.speed < SHIFT { 2 } else { 1 }
        } else {
            self.speed
        };
        if self.x.abs() > ROAD - CAR_W / 2 && self.time.is_multiple_of(GRASS_FRAMES) {
            self.speed -= self.speed / 4;
        }
        self.speed = self.speed.clamp(MIN_SPEED, MAX_SPEED);
        // Steering, and the curve's push outwards (one unit per frame at top speed).
        self.drift += self.curve * self.speed;
        let push = self.drift / MAX_SPEED;
        self.drift -= push * MAX_SPEED;
        self.x = (self.x + action.dx() - push).clamp(-ROAD - 8, ROAD + 8);
        // Traffic: overtaking and being overtaken.
        let mut reward = 0;
        let reach = CAR_LEN * FIX;
        for slot in &mut self.cars {
            let Some(mut c) = *slot else { continue };
            let before = c.d;
            c.d += TRAFFIC_SPEED - self.speed;
            // Running into a car drops you to the slowest speed, and it
            // stays just ahead: no pass. (Closing at most 96 sub-units a
            // frame, no car can jump the 2 · 48 of a collision.) Cars
            // overtaking you do not crash you: on the ROM a player at half
            // pedal, overtaken all the time, crashes twice a day.
            if before > 0 && c.d < before && (c.x - self.x).abs() < CAR_W && c.d.abs() < reach {
                self.speed = MIN_SPEED;
                c.d = reach;
            }
            if before > 0 && c.d <= 0 {
                reward += 1;
            } else if before <= 0 && c.d > 0 {
                reward -= 1;
            }
            *slot = (BEHIND * FIX..=AHEAD * FIX).contains(&c.d).then_some(c);
        }
        // The counter of cars to pass never rises above the day's quota:
        // cars overtaking you only take back passes you made (the ROM's
        // rule; ALE's reward is the counter's change, so a player who never
        // gets ahead scores 0, not less).
        let quota = (self.quota - reward).min(self.day_quota());
        let reward = self.quota - quota;
        self.quota = quota;
        self.status.award(reward);
        // Traffic is spaced along the road, so cars come the faster the
        // more your speed differs from theirs — ahead if you are faster,
        // from behind if slower.
        self.gap -= (self.speed - TRAFFIC_SPEED).abs();
        if self.gap <= 0 {
            let x = LANES[rng.below(3) as usize];
            let d = if self.speed > TRAFFIC_SPEED {
                SPAWN
            } else {
                BEHIND
            } * FIX;
            if let Some(slot) = self.cars.iter_mut().find(|c| c.is_none()) {
                *slot = Some(Car { x, d });
            }
            self.gap += next_gap(rng);
        }
        self.curve_timer -= 1;
        if self.curve_timer == 0 {
            self.curve = rng.below(3) as i32 - 1;
            self.curve_timer = 300 + rng.below(900) as u32;
        }
        self.time += 1;
        if self.time == DAY_FRAMES {
            if self.quota > 0 {
                self.status.end();
            } else {
                self.day += 1;
                self.time = 0;
                self.quota = self.day_quota();
            }
        }
        reward
    }

    fn status(&self) -> &Status {
        &self.status
    }

    fn compact(&self, grid: &mut Grid) {
        grid.point(0, self.x, 0);
        for c in self.cars.iter().flatten().filter(|c| self.visible(c)) {
            grid.point(1, c.x, -c.d / FIX);
        }
        match self.curve {
            -1 => grid.point(2, -ROAD, -AHEAD),
            1 => grid.point(2, ROAD - 1, -AHEAD),
            _ => {}
        }
        grid.gauge(3, self.speed as f64 / MAX_SPEED as f64);
        grid.gauge(4, self.quota.max(0) as f64 / self.day_quota() as f64);
    }

    fn draw(&self, s: &mut Screen) {
        let night = self.visibility() < AHEAD;
        s.clear(self.sky());
        s.rect(
            Rect::new(0, 100, 160, 110),
            if night { [0, 0, 0] } else { [50, 132, 50] },
        );
        // Road edges: a dot every 8 units of distance.
        for d in (0..self.visibility().min(600)).step_by(12) {
            for side in [-ROAD, ROAD] {
                let (x, y, _) = project(side, d, self.curve);
                s.rect(Rect::new(x, y, 1, 1), [214, 214, 214]);
            }
        }
        let mut visible: Vec<&Car> = self
            .cars
            .iter()
            .flatten()
            .filter(|c| c.d > 0 && self.visible(c))
            .collect();
        visible.sort_by_key(|c| -c.d);
        for c in visible {
            let (x, y, k) = project(c.x, c.d / FIX, self.curve);
            let (w, h) = ((16.0 * k) as i32 + 2, (10.0 * k) as i32 + 1);
            if night {
                s.rect(Rect::new(x - w / 2, y - 2, 2, 2), [200, 72, 72]);
                s.rect(Rect::new(x + w / 2 - 2, y - 2, 2, 2), [200, 72, 72]);
            } else {
                s.rect(Rect::new(x - w / 2, y - h, w, h), [162, 98, 33]);
            }
        }
        let (x, y, _) = project(self.x, 0, self.curve);
        s.sprite(
            x - 8,
            y - 10,
            &[0x3C, 0x3C, 0xFF, 0xFF, 0x3C, 0xFF, 0xFF, 0x66],
            2,
            1,
            [214, 214, 214],
        );
        s.rect(Rect::new(0, 190, 160, 20), [150, 30, 30]);
        s.number(60, 194, self.quota.max(0), [252, 252, 84]);
        s.number(100, 194, self.day as i32, [252, 252, 84]);
        s.rect(
            Rect::new(110, 196, self.speed * 32 / MAX_SPEED, 4),
            [252, 252, 84],
        );
    }

    /// Full throttle; keep to a lane's centre, leaning against the curve,
    /// and change to the lane with the most room ahead when it has clearly
    /// more than the current one.
    fn scripted(&self) -> Action {
        let room = |lane: i32| {
            self.cars
                .iter()
                .flatten()
                .filter(|c| c.d > -4 * FIX && (c.x - lane).abs() < CAR_W + 4)
                .map(|c| c.d)
                .min()
                .unwrap_or(i32::MAX)
        };
        let nearest = LANES
            .into_iter()
            .min_by_key(|&l| (l - self.x).abs())
            .unwrap_or(0);
        let best = LANES
            .into_iter()
            .max_by_key(|&l| (room(l), -(l - self.x).abs()))
            .unwrap_or(0);
        let target = if room(nearest) >= room(best).saturating_sub(40 * FIX) {
            nearest
        } else {
            best
        };
        let error = target - self.x + 2 * self.curve;
        let steer = if error.abs() > 1 { error.signum() } else { 0 };
        Action::from_parts(steer, 0, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A straight road with no traffic (and none coming soon), driving at
    /// `speed`.
    fn empty_road(speed: i32) -> (Enduro, Rng) {
        let mut rng = Rng::new(0);
        let mut g = Enduro::new(&mut rng);
        g.cars = [None; 6];
        g.gap = i32::MAX;
        g.curve_timer = u32::MAX;
        g.speed = speed;
        (g, rng)
    }

    #[test]
    fn the_pedal_the_brake_and_coasting_change_speed_at_the_roms_rates() {
        let (mut g, mut rng) = empty_road(MIN_SPEED);
        for _ in 0..160 {
            g.frame(Action::FIRE, &mut rng);
        }
        assert_eq!(g.speed, SHIFT);
        for _ in 0..592 {
            g.frame(Action::FIRE, &mut rng);
        }
        assert_eq!(g.speed, MAX_SPEED);
        for _ in 0..600 {
            g.frame(Action::NOOP, &mut rng);
        }
        assert_eq!(g.speed, MAX_SPEED, "coasting keeps the speed");
        for _ in 0..44 {
            g.frame(Action::DOWN, &mut rng);
        }
        assert_eq!(g.speed, MAX_SPEED - 44);
    }

    #[test]
    fn overtaking_pays_and_being_overtaken_costs() {
        let (mut g, mut rng) = empty_road(MAX_SPEED);
        g.cars[0] = Some(Car { x: 30, d: 10 });
        assert_eq!(g.frame(Action::NOOP, &mut rng), 1);
        assert_eq!((g.status.score(), g.quota), (1, QUOTAS[0] - 1));
        g.speed = MIN_SPEED;
        g.cars = [None; 6];
        g.cars[1] = Some(Car { x: -30, d: -10 });
        assert_eq!(g.frame(Action::NOOP, &mut rng), -1);
        assert_eq!(g.quota, QUOTAS[0]);
        // With no pass left to take back, being overtaken costs nothing.
        g.cars[1] = Some(Car { x: -30, d: -10 });
        assert_eq!(g.frame(Action::NOOP, &mut rng), 0);
        assert_eq!((g.status.score(), g.quota), (0, QUOTAS[0]));
        // A car exactly as fast as the traffic neither gains nor loses.
        g.speed = TRAFFIC_SPEED;
        g.cars[1] = Some(Car { x: -30, d: 1 });
        g.frame(Action::NOOP, &mut rng);
        assert_eq!(g.cars[1], Some(Car { x: -30, d: 1 }));
    }

    #[test]
    fn running_into_a_car_costs_the_speed_and_is_no_pass_even_at_top_speed() {
        // At top speed you close 96 sub-units a frame: this car ends the
        // frame behind you, but you ran into it rather than passed it.
        let (mut g, mut rng) = empty_road(MAX_SPEED);
        let d = CAR_LEN * FIX + 40;
        assert!(d - (MAX_SPEED - TRAFFIC_SPEED) < 0);
        g.cars[0] = Some(Car { x: 4, d });
        assert_eq!(g.frame(Action::NOOP, &mut rng), 0);
        assert_eq!(g.speed, MIN_SPEED);
        assert_eq!(
            g.cars[0],
            Some(Car {
                x: 4,
                d: CAR_LEN * FIX
            })
        );
    }

    #[test]
    fn traffic_comes_from_ahead_when_you_are_faster_and_from_behind_when_slower() {
        for (speed, d) in [(MAX_SPEED, SPAWN * FIX), (MIN_SPEED, BEHIND * FIX)] {
            let (mut g, mut rng) = empty_road(speed);
            g.gap = 1;
            g.frame(Action::NOOP, &mut rng);
            let spawned: Vec<i32> = g.cars.iter().flatten().map(|c| c.d).collect();
            assert_eq!(spawned, [d], "at speed {speed}");
            let left = 1 - (speed - TRAFFIC_SPEED).abs();
            assert!((left + GAP.0..left + GAP.0 + GAP.1 as i32).contains(&g.gap));
        }
    }

    #[test]
    fn a_day_without_the_quota_ends_the_game_and_with_it_starts_the_next() {
        let mut rng = Rng::new(0);
        let mut g = Enduro::new(&mut rng);
        g.time = DAY_FRAMES - 1;
        g.quota = 0;
        g.frame(Action::NOOP, &mut rng);
        assert!(!g.status.over());
        assert_eq!((g.day, g.quota, g.time), (2, QUOTAS[1], 0));
        g.time = DAY_FRAMES - 1;
        g.frame(Action::NOOP, &mut rng);
        assert!(g.status.over());
    }
}
