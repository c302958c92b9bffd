//! Classic-control tasks: tiny, fast, well understood — for tests and for
//! checking that an algorithm learns at all before spending physics time.

mod cartpole;
mod pendulum;

pub use cartpole::CartPole;
pub use pendulum::Pendulum;
