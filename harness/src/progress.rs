//! Progress of long work: a live bar on a terminal, plain log lines
//! otherwise (CI logs, pipes, files), so output is readable either way.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often plain-text mode prints at most (besides every 10% of the work).
const PLAIN_INTERVAL: Duration = Duration::from_secs(30);

/// Progress of one run, in env steps.
pub struct Progress {
    label: String,
    total: u64,
    bar: Option<ProgressBar>,
    quiet: bool,
    start: Instant,
    last_line: Instant,
    last_tenth: u64,
}

impl Progress {
    /// A bar when stderr is a terminal, else plain lines; nothing when `quiet`.
    pub fn new(label: String, total: u64, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30.cyan/blue}] {human_pos}/{human_len} steps  {per_sec}  eta {eta}  {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.clone());
            bar
        });
        let now = Instant::now();
        Progress {
            label,
            total,
            bar,
            quiet,
            start: now,
            last_line: now,
            last_tenth: 0,
        }
    }

    /// Report `done` steps, with the recent training return and the last
    /// evaluation return when known.
    pub fn update(&mut self, done: u64, recent_return: Option<f64>, eval_return: Option<f64>) {
        let mut msg = String::new();
        if let Some(r) = recent_return {
            msg.push_str(&format!("return {r:.1}"));
        }
        if let Some(r) = eval_return {
            msg.push_str(&format!(
                "{}eval {r:.1}",
                if msg.is_empty() { "" } else { "  " }
            ));
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(msg);
            return;
        }
        if self.quiet {
            return;
        }
        let tenth = done.saturating_mul(10) / self.total.max(1);
        if tenth > self.last_tenth || self.last_line.elapsed() >= PLAIN_INTERVAL {
            self.last_tenth = tenth;
            self.last_line = Instant::now();
            let rate = done as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "[{}] {done}/{} steps ({:.0}%), {rate:.0} steps/s{}{msg}",
                self.label,
                self.total,
                100.0 * done as f64 / self.total.max(1) as f64,
                if msg.is_empty() { "" } else { ", " }
            );
        }
    }

    /// Remove the bar (plain mode has nothing to clean up).
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
