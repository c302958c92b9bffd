//! The report as a list of blocks, rendered twice: to HTML (`index.html`)
//! and to Markdown (`summary.md`). Every text in a block is plain text;
//! each renderer escapes it for its format, so a name from the data can
//! never become markup.

/// A piece of the report.
#[derive(Debug, Clone)]
pub enum Block {
    /// A heading of level 2 or 3, with its anchor id (ASCII, from us).
    Heading {
        /// 2 or 3.
        level: u8,
        /// Anchor for the table of contents.
        id: String,
        /// Plain text; the renderers escape it.
        text: String,
    },
    /// A paragraph.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A figure: trusted SVG from [`super::plots`] and a caption.
    Figure {
        /// Inline SVG.
        svg: String,
        /// Says what the figure shows and how it was computed (the
        /// reader of a static report cannot hover for details).
        caption: String,
    },
    /// A table.
    Table(Table),
    /// Preformatted text (configs).
    Code(String),
    /// Blocks shown folded in HTML (long tables).
    Folded {
        /// The line shown when folded.
        summary: String,
        /// What unfolds.
        blocks: Vec<Block>,
    },
}

/// A table with a caption.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Says what the rows are and how the numbers were computed.
    pub caption: String,
    /// Column names.
    pub header: Vec<String>,
    /// Which columns are numeric (right-aligned).
    pub numeric: Vec<bool>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with `caption` and no columns yet; add them with
    /// [`Table::text`] and [`Table::num`], so a column's name and alignment
    /// are written together.
    pub fn new(caption: impl Into<String>) -> Table {
        Table {
            caption: caption.into(),
            ..Table::default()
        }
    }

    /// Add a column of text (left-aligned).
    pub fn text(self, name: &str) -> Table {
        self.column(name, false)
    }

    /// Add a column of numbers (right-aligned).
    pub fn num(self, name: &str) -> Table {
        self.column(name, true)
    }

    /// Add text columns named `names`, in order.
    pub fn texts(self, names: &[&str]) -> Table {
        names.iter().fold(self, |t, name| t.text(name))
    }

    /// Add number columns named `names`, in order.
    pub fn nums(self, names: &[&str]) -> Table {
        names.iter().fold(self, |t, name| t.num(name))
    }

    /// The table with these rows (one cell per column).
    pub fn rows(mut self, rows: Vec<Vec<Cell>>) -> Table {
        self.rows = rows;
        self
    }

    fn column(mut self, name: &str, numeric: bool) -> Table {
        self.header.push(name.to_string());
        self.numeric.push(numeric);
        self
    }
}

/// A table cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Plain text; the renderers escape it.
    pub text: String,
    /// Shown in bold.
    pub bold: bool,
}

impl Cell {
    /// A plain cell.
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            bold: false,
        }
    }

    /// A cell, bold if `bold`.
    pub fn marked(text: impl Into<String>, bold: bool) -> Cell {
        Cell {
            text: text.into(),
            bold,
        }
    }
}

/// A number for a table: four significant digits at most, no exponent for
/// the magnitudes returns have.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let x = if x == 0.0 { 0.0 } else { x }; // no "-0"
    let a = x.abs();
    let digits = if a >= 1000.0 {
        0
    } else if a >= 100.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    format!("{x:.digits$}")
}

/// `[lo, hi]` for a table.
pub fn interval(lo: f64, hi: f64) -> String {
    format!("[{}, {}]", num(lo), num(hi))
}
