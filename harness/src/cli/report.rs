//! `harness report`: compare the runs under some directories.

use super::emit;
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

/// `harness report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Directories to read (searched recursively for runs and CG checks).
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Output directory for index.html and summary.md.
    #[arg(short, long, default_value = "reports/latest", value_name = "DIR")]
    out: PathBuf,
}

impl ReportArgs {
    /// Check the inputs exist (reading them is the work).
    pub fn resolve(&self) -> Result<()> {
        for dir in &self.dirs {
            if !dir.is_dir() {
                bail!("{} is not a directory", dir.display());
            }
        }
        Ok(())
    }
}

/// Write the report and say where it went.
pub fn execute(args: &ReportArgs) -> Result<()> {
    args.resolve()?;
    let written = crate::report::write(&args.dirs, &args.out)?;
    for note in &written.notes {
        eprintln!("warning: {note}");
    }
    emit(&format!(
        "report of {} runs on {} env(s): {} and {}\n",
        written.runs,
        written.envs,
        written.html.display(),
        written.summary.display()
    ));
    Ok(())
}
