//! The examples of the README and of `docs/` cannot rot: every shell command
//! in them is checked (`harness` commands with `--resolve-only`, which
//! resolves every name, key, value and file; the C compiler lines for real),
//! and the sweep file of `docs/sweeps.md` is planned. The fixtures the
//! commands name (a config file, a run directory, a saved policy) are made
//! first, in a scratch directory the commands run in. And every flag of every
//! command is documented in `docs/cli.md`, one click from the README.

use crate::common::{compile_plugin, harness, run_ok, stderr, workspace};
use std::path::Path;
use std::process::Command;

/// A Markdown text's fenced blocks of one language, in order.
fn blocks(readme: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        let fence = line.trim_start();
        match &mut current {
            None if fence == format!("```{lang}") => current = Some(String::new()),
            Some(_) if fence == "```" => out.push(current.take().unwrap()),
            Some(text) => {
                text.push_str(fence);
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

/// Split a shell line into words: quotes group, `#` at a word's start
/// begins a comment. (No variables or substitutions: the docs use none.)
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unclosed quote in: {line}");
    if in_word {
        words.push(word);
    }
    words
}

/// The commands of a shell block: continuation lines joined, comments and
/// blank lines dropped.
fn commands(block: &str) -> Vec<Vec<String>> {
    block
        .replace("\\\n", " ")
        .lines()
        .map(words)
        .filter(|w| !w.is_empty())
        .collect()
}

/// Make what the documented commands refer to, in `dir`.
fn fixtures(dir: &Path) {
    std::os::unix::fs::symlink(workspace().join("plugins"), dir.join("plugins")).unwrap();
    // Used before the docs show how to compile it.
    compile_plugin(
        &workspace().join("plugins/c/random_plugin.c"),
        &[],
        dir,
        "random_c",
    );
    std::fs::write(dir.join("my.toml"), "").unwrap();
    std::fs::write(dir.join("trpo.toml"), "max_kl = 0.01\n").unwrap();
    std::fs::create_dir_all(dir.join("results/demo")).unwrap();
    std::fs::create_dir_all(dir.join("results/grid")).unwrap();
    let sweep_file = &blocks(&doc("docs/sweeps.md"), "toml")[0];
    std::fs::create_dir_all(dir.join("sweeps")).unwrap();
    std::fs::write(dir.join("sweeps/my-grid.toml"), sweep_file).unwrap();
    // A real (short) TRPO run on hopper, under the name the docs use.
    let out = dir.join("runs");
    let extra = ["--eval-episodes", "1", "--quiet"];
    run_ok("trpo", "hopper", "1000", &extra, &out);
    let run = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::copy(run.join("policy.bin"), dir.join("policy.bin")).unwrap();
    std::fs::rename(run, dir.join("results/trpo-hopper-v0-s0-1a2b3c4d")).unwrap();
}

/// The text of a committed Markdown file, by its path in the repository.
fn doc(path: &str) -> String {
    std::fs::read_to_string(workspace().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The README and every page of `docs/`, by path, in a fixed order.
fn documents() -> Vec<(String, String)> {
    let mut pages: Vec<String> = std::fs::read_dir(workspace().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    std::iter::once("README.md".to_string())
        .chain(pages)
        .map(|path| {
            let text = doc(&path);
            (path, text)
        })
        .collect()
}

#[test]
fn every_readme_and_docs_command_resolves_and_the_sweep_file_plans() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let (mut checked, mut compiled) = (0, 0);
    let documents = documents();
    let sh = documents
        .iter()
        .flat_map(|(path, text)| blocks(text, "sh").into_iter().map(move |b| (path, b)));
    for (path, block) in sh {
        for words in commands(&block) {
            let args: Vec<&str> = match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["harness", ref rest @ ..] => rest.to_vec(),
                ["cargo", "run", "--release", "--", ref rest @ ..] => rest.to_vec(),
                // Building and testing the workspace is what this test runs in.
                ["cargo", "test" | "build", ..] => continue,
                // Reading results from Python needs pandas/duckdb, not ours to test.
                ["python3", ..] => continue,
                ["cc", ref rest @ ..] => {
                    let o = Command::new(crate::common::cc())
                        .args(rest)
                        .current_dir(dir.path())
                        .output()
                        .unwrap();
                    assert!(o.status.success(), "{path}: {words:?}: {}", stderr(&o));
                    compiled += 1;
                    continue;
                }
                _ => panic!("{path} runs a command this test does not know: {words:?}"),
            };
            let o = Command::new(env!("CARGO_BIN_EXE_harness"))
                .args(&args)
                .arg("--resolve-only")
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{path}: harness {}\n{}",
                args.join(" "),
                stderr(&o)
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 15 && compiled == 2,
        "{checked} harness commands, {compiled} compiled"
    );
    // The sweep file itself, through the sweep command.
    let o = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["sweep", "sweeps/my-grid.toml", "--resolve-only"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The long flags a `--help` text offers (`--help` and `--version` aside).
fn help_flags(help: &str) -> Vec<String> {
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        // The option's spelling ends where its description starts.
        .flat_map(|l| l.split("  ").next().unwrap_or("").split([' ', ',']))
        .filter_map(|w| w.strip_prefix("--"))
        .filter(|f| !f.is_empty() && !["help", "version"].contains(f))
        .map(|f| format!("--{f}"))
        .collect()
}

#[test]
fn every_flag_of_every_command_is_in_the_cli_reference() {
    let cli = doc("docs/cli.md");
    let (mut documented, mut missing) = (0, Vec::new());
    for command in [
        "list",
        "run",
        "sweep",
        "report",
        "render",
        "env-stats",
        "check cg",
        "check plugin",
        "reproduce trpo2015",
    ] {
        let args: Vec<&str> = command.split(' ').chain(["--help"]).collect();
        let o = harness(&args);
        assert!(
            o.status.success(),
            "harness {command} --help: {}",
            stderr(&o)
        );
        let heading = format!("## `harness {command}`");
        let section = cli
            .split_once(&heading)
            .unwrap_or_else(|| panic!("docs/cli.md has no section {heading}"))
            .1;
        let section = section.split("\n## ").next().unwrap();
        for flag in help_flags(&String::from_utf8_lossy(&o.stdout)) {
            // Every command takes it; the page says so once, above.
            if flag == "--resolve-only" {
                continue;
            }
            if section.contains(&format!("`{flag}")) {
                documented += 1;
            } else {
                missing.push(format!("harness {command} {flag}"));
            }
        }
    }
    assert!(missing.is_empty(), "not in docs/cli.md: {missing:#?}");
    assert!(cli.contains("`--resolve-only`"));
    assert!(
        documented >= 80,
        "only {documented} flags found in the --help texts"
    );
}

#[test]
fn help_flags_reads_short_and_long_options() {
    let help = "Usage: harness x [OPTIONS]\n\nOptions:\n  -o, --out <FILE>  The file\n      \
                --dry-run  Only plan; unlike --slurm\n  -h, --help  Print help\n";
    assert_eq!(help_flags(help), ["--out", "--dry-run"]);
}

#[test]
fn resolve_only_catches_a_bad_key_or_value_without_running() {
    // An unknown key (the harness's check), and a range the plugin checks at
    // creation, shown in its shortest form.
    for (set, error) in [
        ("delta=0.01", "unknown config key 'delta'"),
        ("max_kl=1e308", "'max_kl' = 1e308 is out of range"),
    ] {
        let args = ["run", "--algo", "trpo", "--env", "walker", "--set", set];
        let o = harness(&[&args[..], &["--resolve-only"]].concat());
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains(error), "{}", stderr(&o));
    }
}

#[test]
fn shell_words_group_quotes_and_drop_comments() {
    assert_eq!(
        words(r#"harness run --set 'hidden_sizes=[8]' -o "a b"  # note"#),
        ["harness", "run", "--set", "hidden_sizes=[8]", "-o", "a b"]
    );
    assert_eq!(commands("cc a \\\n  b\n\n# c\n"), [vec!["cc", "a", "b"]]);
}
