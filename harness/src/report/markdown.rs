//! `summary.md`: the report's text and tables in Markdown (figures are
//! named, with a pointer to `index.html`), for pull requests, issues and
//! terminals.

use super::doc::{Block, Table};
use std::fmt::Write;

/// Backslash-escape what Markdown would read as markup (GitHub flavour,
/// tables included): emphasis, code, HTML, table cells and headings; `]`
/// before `(`, `[` or `:`, which would make a link. Brackets elsewhere stay
/// as they are, so intervals read `[1.2, 3.4]`. Line breaks become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' | '`' | '*' | '_' | '<' | '>' | '|' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            ']' if matches!(chars.peek(), Some('(' | '[' | ':')) => out.push_str("\\]"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The whole summary.
pub fn render(title: &str, blocks: &[Block]) -> String {
    let mut out = format!("# {}\n\n", escape(title));
    for block in blocks {
        render_block(&mut out, block);
    }
    out
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Block::Heading { level, text, .. } => {
            let _ = writeln!(out, "{} {}\n", "#".repeat(*level as usize), escape(text));
        }
        Block::Paragraph(text) => {
            let _ = writeln!(out, "{}\n", escape(text));
        }
        Block::List(items) => {
            for item in items {
                let _ = writeln!(out, "- {}", escape(item));
            }
            out.push('\n');
        }
        Block::Figure { caption, .. } => {
            let _ = writeln!(out, "*Figure (in index.html): {}*\n", escape(caption));
        }
        Block::Table(table) => render_table(out, table),
        Block::Code(text) => {
            // Indented: no fence that the text could close.
            for line in text.lines() {
                let _ = writeln!(out, "    {line}");
            }
            out.push('\n');
        }
        Block::Folded { blocks, .. } => {
            for b in blocks {
                render_block(out, b);
            }
        }
    }
}

fn render_table(out: &mut String, table: &Table) {
    if !table.caption.is_empty() {
        let _ = writeln!(out, "{}\n", escape(&table.caption));
    }
    let header: Vec<String> = table.header.iter().map(|h| escape(h)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let rule: Vec<&str> = (0..header.len())
        .map(|i| {
            if table.numeric.get(i).copied().unwrap_or(false) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in &table.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                let text = escape(&c.text);
                if c.bold && !text.is_empty() {
                    format!("**{text}**")
                } else {
                    text
                }
            })
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Cell;

    #[test]
    fn tables_and_escaping() {
        let t = Table {
            caption: "c".into(),
            header: vec!["a".into(), "n".into()],
            numeric: vec![false, true],
            rows: vec![vec![Cell::marked("x|y*", true), Cell::plain("1.5")]],
        };
        let md = render("T", &[Block::Table(t), Block::Code("```\nz".into())]);
        assert!(
            md.contains("| a | n |\n|---|---:|\n| **x\\|y\\*** | 1.5 |"),
            "{md}"
        );
        assert_eq!(escape("[a](b) [1, 2]"), "[a\\](b) [1, 2]");
        assert!(md.contains("    ```\n    z\n"), "{md}");
    }
}
