//! `index.html`: one self-contained page (inline CSS and SVG; no script, no
//! font, no link outside the page) that opens from disk anywhere.

use super::doc::{Block, Table};
use std::fmt::Write;

const STYLE: &str = r#"
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f;
       max-width: 1000px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.7em; margin-bottom: .2em; }
h2 { font-size: 1.35em; border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
h3 { font-size: 1.1em; margin-top: 1.6em; }
nav ul { columns: 2; padding-left: 1.2em; }
figure { margin: 1em 0; text-align: center; }
svg.figure { width: 100%; max-width: 860px; height: auto; }
svg.figure:has(+ svg.figure), svg.figure + svg.figure { width: 49.5%; }
figcaption, p.caption { font-size: .9em; color: #555; }
figcaption { text-align: left; max-width: 860px; margin: .3em auto 0; }
p.caption { margin: 1.2em 0 .3em; }
table { border-collapse: collapse; margin: 0 0 1em; font-variant-numeric: tabular-nums; }
th, td { padding: .25em .7em; text-align: left; vertical-align: top; }
thead th { border-top: 2px solid #333; border-bottom: 1px solid #333; }
tbody tr:last-child td { border-bottom: 2px solid #333; }
td.num, th.num { text-align: right; }
pre { background: #f6f6f6; padding: .6em .8em; overflow-x: auto; font-size: .85em; }
details { margin: 1em 0; }
summary { cursor: pointer; color: #0b5cad; }
.scroll { overflow-x: auto; }
"#;

/// `&`, `<`, `>`, `"` and `'` as entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page: title, table of contents (the level-2 headings), blocks.
pub fn render(title: &str, blocks: &[Block]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    out += "<nav><ul>\n";
    for block in blocks {
        if let Block::Heading { level: 2, id, text } = block {
            let _ = writeln!(out, "<li><a href=\"#{id}\">{}</a></li>", escape(text));
        }
    }
    out += "</ul></nav>\n";
    for block in blocks {
        render_block(&mut out, block);
    }
    out + "</body>\n</html>\n"
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Block::Heading { level, id, text } => {
            let _ = writeln!(out, "<h{level} id=\"{id}\">{}</h{level}>", escape(text));
        }
        Block::Paragraph(text) => {
            let _ = writeln!(out, "<p>{}</p>", escape(text));
        }
        Block::List(items) => {
            out.push_str("<ul>\n");
            for item in items {
                let _ = writeln!(out, "<li>{}</li>", escape(item));
            }
            out.push_str("</ul>\n");
        }
        Block::Figure { svg, caption } => {
            let _ = writeln!(
                out,
                "<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>",
                escape(caption)
            );
        }
        Block::Table(table) => render_table(out, table),
        Block::Code(text) => {
            let _ = writeln!(out, "<pre>{}</pre>", escape(text));
        }
        Block::Folded { summary, blocks } => {
            let _ = writeln!(out, "<details>\n<summary>{}</summary>", escape(summary));
            for b in blocks {
                render_block(out, b);
            }
            out.push_str("</details>\n");
        }
    }
}

fn render_table(out: &mut String, table: &Table) {
    let class = |i: usize| {
        if table.numeric.get(i).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        }
    };
    let _ = writeln!(
        out,
        "<p class=\"caption\">{}</p>\n<div class=\"scroll\"><table>\n<thead><tr>",
        escape(&table.caption)
    );
    for (i, h) in table.header.iter().enumerate() {
        let _ = write!(out, "<th{}>{}</th>", class(i), escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let text = breakable_urls(&escape(&cell.text));
            let text = if cell.bold {
                format!("<strong>{text}</strong>")
            } else {
                text
            };
            let _ = write!(out, "<td{}>{text}</td>", class(i));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
}

/// `text` with a line-break opportunity (`<wbr>`) after each `/` of its
/// URLs: a source cell's URL is one long word, which would otherwise set
/// its column's minimum width and push the table past the page.
fn breakable_urls(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.contains("://") {
                word.replace('/', "/<wbr>")
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Cell;

    #[test]
    fn everything_from_data_is_escaped() {
        let blocks = vec![
            Block::Heading {
                level: 2,
                id: "a".into(),
                text: "<script>".into(),
            },
            Block::Table(Table {
                caption: "a & b".into(),
                header: vec!["\"h\"".into()],
                numeric: vec![false],
                rows: vec![vec![Cell::marked("<img src=x>", true)]],
            }),
            Block::Code("</pre><b>".into()),
        ];
        let html = render("it's", &blocks);
        assert!(!html.contains("<script>") && !html.contains("<img") && !html.contains("<b>"));
        assert!(html.contains("<strong>&lt;img src=x&gt;</strong>"));
        assert!(html.contains("a &amp; b") && html.contains("&quot;h&quot;"));
        assert!(html.contains("it&#39;s"));
    }

    #[test]
    fn urls_may_break_after_their_slashes_and_nothing_else_does() {
        assert_eq!(
            breakable_urls("docs — https://a.io/b/c and/or x"),
            "docs — https:/<wbr>/<wbr>a.io/<wbr>b/<wbr>c and/or x"
        );
    }
}
