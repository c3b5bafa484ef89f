//! Plain-text tables: columns two spaces apart, padded to the widest cell,
//! no trailing spaces. The CLI's `--format table` output
//! (`cli::table`, built with Wasmtime) and the host-call sweep's text
//! ([`crate::faults::Sweep::render_text`], in the mock-only build too).

use std::fmt::Write as _;

/// A table: headers, rows, and for each column whether it is right-aligned
/// (numbers). A row may carry note lines printed under it, indented.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<(Vec<String>, Vec<String>)>,
}

impl Table {
    /// A table with these columns; `right[i]` right-aligns column `i`.
    pub fn new(headers: Vec<&'static str>, right: Vec<bool>) -> Self {
        debug_assert_eq!(headers.len(), right.len());
        Self {
            headers,
            right,
            rows: Vec::new(),
        }
    }

    /// Adds a row, with note lines under it.
    pub fn row(&mut self, cells: Vec<String>, notes: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push((cells, notes));
    }

    /// The table as text, two spaces between columns, no trailing spaces.
    pub fn render(&self) -> String {
        let width = |i: usize| {
            self.rows
                .iter()
                .map(|(c, _)| c[i].chars().count())
                .chain(std::iter::once(self.headers[i].chars().count()))
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.headers.len()).map(width).collect();
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                if self.right[i] {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = String::new();
        let headers: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        let _ = writeln!(out, "{}", line(&headers));
        for (cells, notes) in &self.rows {
            let _ = writeln!(out, "{}", line(cells));
            for n in notes {
                let _ = writeln!(out, "      {n}");
            }
        }
        out
    }
}
