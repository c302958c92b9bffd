//! The README's examples cannot rot: every shell command in it is checked
//! (`harness` commands with `--resolve-only`, which resolves every name,
//! key, value and file; the C compiler line for real), and its sweep file is
//! planned. The fixtures the commands name (a config file, a run directory,
//! a saved policy) are made first, in a scratch directory the commands run in.

use crate::common::{compile_plugin, harness, run_ok, stderr, workspace};
use std::path::Path;
use std::process::Command;

/// The README's fenced blocks of one language, in order.
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
/// begins a comment. (No variables or substitutions: the README uses none.)
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

/// Make what the README's commands refer to, in `dir`.
fn fixtures(dir: &Path) {
    std::os::unix::fs::symlink(workspace().join("plugins"), dir.join("plugins")).unwrap();
    // Used before the README shows how to compile it.
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
    let sweep_file = &blocks(&readme(), "toml")[0];
    std::fs::create_dir_all(dir.join("sweeps")).unwrap();
    std::fs::write(dir.join("sweeps/my-grid.toml"), sweep_file).unwrap();
    // A real (short) TRPO run on hopper, under the name the README uses.
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

fn readme() -> String {
    std::fs::read_to_string(workspace().join("README.md")).unwrap()
}

#[test]
fn every_readme_command_resolves_and_its_sweep_file_plans() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let (mut checked, mut compiled) = (0, 0);
    for block in blocks(&readme(), "sh") {
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
                    assert!(o.status.success(), "{words:?}: {}", stderr(&o));
                    compiled += 1;
                    continue;
                }
                _ => panic!("the README runs a command this test does not know: {words:?}"),
            };
            let o = Command::new(env!("CARGO_BIN_EXE_harness"))
                .args(&args)
                .arg("--resolve-only")
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "README: harness {}\n{}",
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
