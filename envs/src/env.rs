//! The environment contract.

use trustbench_plugin::Space;

/// The outcome of one step (Gymnasium's `reward, terminated, truncated`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Reward for the transition.
    pub reward: f64,
    /// A true end of the episode (fell over, game over): the value of the
    /// next state is zero, so learners must *not* bootstrap.
    pub terminated: bool,
    /// Cut off from outside (time limit): the episode could have gone on,
    /// so learners bootstrap from V(s').
    pub truncated: bool,
}

impl Step {
    /// Whether the episode is over for either reason.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// Where an env's body is along its task's forward axis, and how long one
/// step lasts: enough for tools to report distance travelled and mean
/// forward speed, which say more about a gait than the return does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Odometer {
    /// Position along the forward axis, in metres (the reward's `x`).
    pub position: f64,
    /// Simulated seconds per env step (frame skip included).
    pub step_seconds: f64,
}

/// A single-threaded, bit-deterministic environment.
///
/// Contract: for the same `reset(Some(seed))` followed by the same actions,
/// every observation and reward is identical bit for bit, on any machine.
/// A [`Env::boxed_clone`] is a complete snapshot: stepping the clone and the
/// original with the same actions gives identical results.
pub trait Env: Send + 'static {
    /// The space of observations written by `reset` and `step`.
    fn observation_space(&self) -> &Space;

    /// The space of actions accepted by `step`.
    fn action_space(&self) -> &Space;

    /// Start a new episode and write its first observation into `obs`.
    /// `Some(seed)` reseeds the env's RNG first (Gymnasium's `reset(seed=...)`);
    /// `None` continues the current random stream.
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]);

    /// Apply `action` (valid for [`Env::action_space`]; box actions outside
    /// the bounds are clipped), write the next observation into `obs`.
    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Step;

    /// A full copy of the current state, RNG included (the snapshot).
    fn boxed_clone(&self) -> Box<dyn Env>;

    /// A picture of the current state: `width × height` RGB pixels,
    /// row-major from the top-left (see [`crate::render`]), or `None` if the
    /// env cannot draw itself.
    fn render(&self, width: usize, height: usize) -> Option<Vec<u8>> {
        let _ = (width, height);
        None
    }

    /// A simple hand-written policy that reads the env's full state (not
    /// only the observation): writes its action into `action` and returns
    /// `true`, or returns `false` if the env has none. A baseline that shows
    /// a task is playable, for `harness env-stats`; never seen by plugins.
    fn scripted_action(&self, action: &mut [f64]) -> bool {
        let _ = action;
        false
    }

    /// The current observation as the bytes it is made of, for envs whose
    /// observations are bytes (the arcade pixel view): value `j` is exactly
    /// `f64::from(bytes[j]) * TB_BYTE_OBSERVATION_SCALE` (see
    /// `trustbench_plugin::abi`). A host can hand these on instead of the
    /// values, 8× smaller; `None` for envs with real-valued observations.
    fn observation_bytes(&self) -> Option<&[u8]> {
        None
    }

    /// Why [`Env::boxed_clone`] cannot snapshot this env, if it cannot:
    /// an env of a provider library that does not offer exact state
    /// save and load. Native envs always can.
    fn snapshot_refusal(&self) -> Option<String> {
        None
    }

    /// Why this env failed, if it did: an env run by a provider library
    /// that returned an error, a wrong length or a non-finite value. A
    /// failed env stays failed (its steps end episodes with zeros); callers
    /// check after each reset and step and stop with this text, which names
    /// the provider. Native envs never fail.
    fn failure(&self) -> Option<&str> {
        None
    }

    /// The body's [`Odometer`], for envs with a body that travels (the
    /// locomotion tasks); `None` otherwise.
    fn odometer(&self) -> Option<Odometer> {
        None
    }
}
