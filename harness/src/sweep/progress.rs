//! A sweep's progress: one bar for the whole sweep (runs done / total, ETA)
//! on a terminal; elsewhere (CI logs, files) one line per finished run.
//! Runs themselves are quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// Progress over the runs a sweep executes.
pub struct SweepProgress {
    bar: Option<ProgressBar>,
    quiet: bool,
    total: usize,
    done: usize,
    start: Instant,
}

impl SweepProgress {
    /// `total` runs to execute; nothing shown when `quiet`.
    pub fn new(total: usize, quiet: bool) -> SweepProgress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total as u64),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            bar.set_style(
                ProgressStyle::with_template(
                    "sweep [{bar:30.cyan/blue}] {pos}/{len} runs  {elapsed} elapsed  eta {eta}  {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(500));
            bar
        });
        SweepProgress {
            bar,
            quiet,
            total,
            done: 0,
            start: Instant::now(),
        }
    }

    /// One run finished; `line` says which and how. Failures are printed
    /// above the bar, so they stay visible.
    pub fn finished(&mut self, line: &str, failed: bool) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            if failed {
                bar.println(line);
            }
            bar.set_message(line.to_string());
            bar.inc(1);
        } else if !self.quiet {
            let elapsed = self.start.elapsed().as_secs_f64();
            let eta = elapsed / self.done as f64 * (self.total - self.done) as f64;
            eprintln!("[{}/{}] {line} (eta {eta:.0} s)", self.done, self.total);
        }
    }

    /// Remove the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
