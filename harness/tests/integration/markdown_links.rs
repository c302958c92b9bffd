//! Every relative link and image in every committed Markdown file resolves:
//! the file exists in the repository (a figure that `.gitignore` hides is a
//! broken image on a fresh clone) and a `#fragment` names a heading of it.
//! Links to the web (`https:`, `mailto:`, ...) are not followed.

use crate::common::workspace;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The committed files of the repository (what a fresh clone has).
fn committed() -> BTreeSet<PathBuf> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(workspace())
        .output()
        .expect("running `git ls-files` (the link check needs git)");
    assert!(out.status.success(), "git ls-files failed: {out:?}");
    out.stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .collect()
}

/// The lines outside fenced code blocks.
fn unfenced(markdown: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push(line);
        }
    }
    out
}

/// The text outside fenced code blocks and inline code spans, line by line
/// (a `[x](y)` inside code is not a link).
fn prose(markdown: &str) -> Vec<String> {
    unfenced(markdown)
        .into_iter()
        .map(|line| {
            line.split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 0)
                .map(|(_, part)| part)
                .collect()
        })
        .collect()
}

/// Link and image targets of a Markdown text: inline `[text](target)`,
/// `![alt](target "title")` and reference definitions `[id]: target`.
fn targets(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in prose(markdown) {
        if let Some(rest) = line.trim_start().strip_prefix('[')
            && let Some((_, def)) = rest.split_once("]:")
            && let Some(target) = def.split_whitespace().next()
        {
            found.push(target.to_string());
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let inner = after[..end].trim();
            let target = inner.split_whitespace().next().unwrap_or("");
            found.push(target.trim_matches(['<', '>']).to_string());
            rest = &after[end..];
        }
    }
    found
}

/// GitHub's anchor of a heading: lower case, spaces to `-`, punctuation
/// other than `-` and `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The anchors of a Markdown file's headings (code in a heading counts:
/// `` ## `harness run` `` is `#harness-run`).
fn anchors(markdown: &str) -> BTreeSet<String> {
    unfenced(markdown)
        .into_iter()
        .filter_map(|l| {
            let t = l.trim_start_matches('#');
            (t.len() < l.len() && t.starts_with(' ')).then(|| slug(t))
        })
        .collect()
}

/// `path` relative to the repository root, `..` and `.` resolved.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// What is wrong with the links of `file` (a repository path, its text
/// `text`), given the committed files and a reader of other files' text.
fn broken(
    file: &Path,
    text: &str,
    files: &BTreeSet<PathBuf>,
    read: impl Fn(&Path) -> String,
) -> Vec<String> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    for target in targets(text) {
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, fragment) = match target.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (target.as_str(), None),
        };
        let resolved = if path.is_empty() {
            file.to_path_buf()
        } else {
            normalise(&dir.join(path))
        };
        let is_dir = files
            .iter()
            .any(|f| f.starts_with(&resolved) && *f != resolved);
        if !files.contains(&resolved) && !is_dir {
            problems.push(format!(
                "{}: `{target}` → {} is not a committed file",
                file.display(),
                resolved.display()
            ));
            continue;
        }
        if let Some(fragment) = fragment
            && resolved.extension().is_some_and(|e| e == "md")
            && !anchors(&read(&resolved)).contains(fragment)
        {
            problems.push(format!(
                "{}: `{target}`: {} has no heading with anchor #{fragment}",
                file.display(),
                resolved.display()
            ));
        }
    }
    problems
}

#[test]
fn every_relative_link_and_image_in_committed_markdown_resolves() {
    let root = workspace();
    let files = committed();
    let read = |p: &Path| std::fs::read_to_string(root.join(p)).unwrap_or_default();
    let markdown: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "md"))
        .collect();
    assert!(
        markdown.iter().any(|f| f.as_os_str() == "README.md"),
        "the README is committed"
    );
    let problems: Vec<String> = markdown
        .iter()
        .flat_map(|f| broken(f, &read(f), &files, read))
        .collect();
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_link_check_finds_missing_files_anchors_and_ignores_code() {
    let files: BTreeSet<PathBuf> = ["README.md", "docs/img/a.png", "benches/README.md"]
        .map(PathBuf::from)
        .into();
    let read = |p: &Path| match p.to_str() {
        Some("benches/README.md") => {
            "# Benches\n\n## Arcade fidelity\n\n### `harness run`\n```\n## Fenced\n```\n"
                .to_string()
        }
        _ => String::new(),
    };
    let text = "![ok](docs/img/a.png) and ![gone](reports/b.png \"title\")\n\
                [ok](benches/README.md#arcade-fidelity), [bad](benches/README.md#nope),\n\
                [code](benches/README.md#harness-run) [bad](benches/README.md#fenced)\n\
                [web](https://example.org/x.png) `[code](missing.md)`\n\
                ```\n[fenced](missing2.md)\n```\n\
                [ref]: ../outside.md\n";
    let problems = broken(Path::new("README.md"), text, &files, read);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains("reports/b.png"), "{}", problems[0]);
    assert!(problems[1].contains("#nope"), "{}", problems[1]);
    assert!(problems[2].contains("#fenced"), "{}", problems[2]);
    assert!(problems[3].contains("outside.md"), "{}", problems[3]);
    // A link from a subdirectory resolves against it.
    let sub = broken(
        Path::new("benches/README.md"),
        "![x](../docs/img/a.png)",
        &files,
        read,
    );
    assert!(sub.is_empty(), "{sub:?}");
    assert_eq!(
        slug("CG against the exact solve (F + λI)"),
        "cg-against-the-exact-solve-f--λi"
    );
}
