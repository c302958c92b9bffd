//! Plain text for the terminal: the aligned tables every command prints
//! (`list`, `sweep --status`, `check`, `env-stats`, `reproduce`'s plan). It
//! sits below both `cli` and the commands' libraries, so either may print
//! one without depending on the other.

/// Left-aligned columns, two spaces apart, indented by two.
pub fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}
