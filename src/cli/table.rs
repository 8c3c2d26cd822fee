//! Tables for people: aligned columns that fit the terminal.
//!
//! The rule (the one `ls`, `git` and ripgrep users expect): when the output is laid out for a
//! width ([`super::fit::width`]: stdout is a terminal, or `IOFS_LEDGER_COLUMNS` is set), each
//! column gets a width so that a row fits, and a cell longer than its column wraps *within
//! its column* (at spaces; a word longer than the column is broken), so every value is still
//! shown in full and no line is wider than the terminal. Otherwise (a pipe or a file) every
//! row is one line, each column padded to its fixed width and never truncated, so `grep`,
//! `cut` and `awk` see one record per line in the same columns on every run.
//!
//! A table is laid out either from all its rows ([`Table::fitted`], for answers computed
//! whole: columns as wide as their widest cell) or, for answers streamed row by row (`log`,
//! `history`, `meetings`), from each column's fixed width ([`Table::streaming`]): a long log
//! is never held in memory to measure it. When the natural widths do not fit, the columns with
//! the most room above their minimum give way first, one character at a time.

use std::io::{self, Write};

/// One column.
#[derive(Clone, Copy, Debug)]
pub struct Col {
    /// Text written before the column (after the previous one).
    pub gap: &'static str,
    /// The width a cell is padded to on one line (`0`: not padded, as for the last column).
    pub pad: usize,
    /// Right-aligned (numbers).
    pub right: bool,
    /// The narrowest the column gets when the terminal is narrow.
    pub min: usize,
}

impl Col {
    /// A left-aligned column padded to `pad`, at least `min` wide on a narrow terminal.
    pub const fn left(gap: &'static str, pad: usize, min: usize) -> Col {
        Col {
            gap,
            pad,
            right: false,
            min,
        }
    }

    /// A right-aligned column.
    pub const fn right(gap: &'static str, pad: usize, min: usize) -> Col {
        Col {
            gap,
            pad,
            right: true,
            min,
        }
    }
}

/// A table: its indentation, its columns, and (when laid out for a width) each column's width.
#[derive(Debug)]
pub struct Table {
    indent: &'static str,
    cols: Vec<Col>,
    widths: Option<Vec<usize>>,
}

/// The columns a text takes on a terminal (a CJK character two, a combining accent none).
fn len(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

impl Table {
    /// A table whose rows arrive one at a time: laid out for `width` (if any) from the
    /// columns' fixed widths; the last column takes the rest of the line.
    pub fn streaming(indent: &'static str, cols: &[Col], width: Option<usize>) -> Table {
        let natural: Vec<usize> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == cols.len() {
                    usize::MAX
                } else {
                    c.pad.max(c.min)
                }
            })
            .collect();
        Table::laid_out(indent, cols, width, natural)
    }

    /// A table of the given rows: laid out for `width` (if any) with each column as wide as
    /// its widest cell.
    pub fn fitted<S: AsRef<str>>(
        indent: &'static str,
        cols: &[Col],
        width: Option<usize>,
        rows: &[Vec<S>],
    ) -> Table {
        let natural: Vec<usize> = (0..cols.len())
            .map(|i| {
                rows.iter()
                    .filter_map(|r| r.get(i).map(|c| len(c.as_ref())))
                    .max()
                    .unwrap_or(0)
                    .max(1)
            })
            .collect();
        Table::laid_out(indent, cols, width, natural)
    }

    fn laid_out(
        indent: &'static str,
        cols: &[Col],
        width: Option<usize>,
        mut natural: Vec<usize>,
    ) -> Table {
        let widths = width.map(|w| {
            let fixed = len(indent) + cols.iter().map(|c| len(c.gap)).sum::<usize>();
            let avail = w.saturating_sub(fixed).max(cols.len());
            let n = cols.len();
            if n == 0 {
                return natural;
            }
            // The last column needs some room of its own before the others give way.
            let last_min = (avail / 3).max(cols[n - 1].min).min(avail);
            let roomy = avail.saturating_sub(natural[n - 1].min(last_min));
            let tight = avail.saturating_sub(natural[n - 1].min(cols[n - 1].min));
            // The column with the most room above its minimum gives a character, until the
            // row fits; when the minimums do not fit, the last column settles for its own
            // minimum, and then the minimums give way too (the widest first, down to 4).
            let at_min = |c: &Col| c.min.max(1);
            let at_four = |_: &Col| 4;
            for (budget, floor) in [
                (roomy, &at_min as &dyn Fn(&Col) -> usize),
                (tight, &at_min),
                (tight, &at_four),
            ] {
                loop {
                    let used: usize = natural[..n - 1].iter().sum();
                    if used <= budget {
                        break;
                    }
                    let widest = (0..n - 1)
                        .filter(|&i| natural[i] > floor(&cols[i]))
                        .max_by_key(|&i| natural[i] - floor(&cols[i]));
                    match widest {
                        Some(i) => natural[i] -= 1,
                        None => break,
                    }
                }
            }
            let used: usize = natural[..n - 1].iter().sum();
            natural[n - 1] = natural[n - 1].min(avail.saturating_sub(used).max(1));
            natural
        });
        Table {
            indent,
            cols: cols.to_vec(),
            widths,
        }
    }

    /// Writes one row (a missing cell is empty).
    pub fn row<S: AsRef<str>>(&self, out: &mut dyn Write, cells: &[S]) -> io::Result<()> {
        let cell = |i: usize| cells.get(i).map(|c| c.as_ref()).unwrap_or("");
        let last = self.cols.len().saturating_sub(1);
        let Some(widths) = &self.widths else {
            // One line, each column padded to its fixed width, nothing cut.
            let mut line = String::from(self.indent);
            for (i, c) in self.cols.iter().enumerate() {
                line.push_str(c.gap);
                let text = cell(i);
                let pad = c.pad.saturating_sub(len(text));
                if c.right {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(text);
                } else {
                    line.push_str(text);
                    if i < last || c.pad > 0 {
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
            return writeln!(out, "{line}");
        };
        let wrapped: Vec<Vec<String>> = (0..self.cols.len())
            .map(|i| wrap_cell(cell(i), widths[i]))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        for l in 0..height {
            let mut line = String::from(self.indent);
            for (i, c) in self.cols.iter().enumerate() {
                line.push_str(c.gap);
                let text = wrapped[i].get(l).map(String::as_str).unwrap_or("");
                let pad = widths[i].saturating_sub(len(text));
                if c.right {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(text);
                } else {
                    line.push_str(text);
                    if i < last {
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    /// Writes every row.
    pub fn rows<S: AsRef<str>>(&self, out: &mut dyn Write, rows: &[Vec<S>]) -> io::Result<()> {
        rows.iter().try_for_each(|r| self.row(out, r))
    }
}

/// Splits a cell into lines at most `width` columns wide, at spaces where it can and inside
/// a word only when the word is wider than the column. Nothing is dropped but the spaces a
/// line is broken at.
pub fn wrap_cell(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    if len(text) <= width {
        return vec![text.to_string()];
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: &str = word;
        loop {
            let room = if line.is_empty() {
                width
            } else {
                width.saturating_sub(len(&line) + 1)
            };
            if len(word) <= room {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word wider than the column: break it, after a `-`, `_`, `:`, `/` or `.` that
            // fits if there is one (and after one character at least, however wide).
            let mut used = 0;
            let cut = word
                .char_indices()
                .find(|(b, c)| {
                    used += unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
                    *b > 0 && used > width
                })
                .map(|(b, _)| b)
                .unwrap_or(word.len());
            let cut = word[..cut]
                .rfind(['-', '_', ':', '/', '.'])
                .map(|b| b + 1)
                .filter(|b| *b > 1 && *b < cut)
                .unwrap_or(cut);
            lines.push(word[..cut].to_string());
            word = &word[cut..];
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &Table, rows: &[Vec<&str>]) -> String {
        let mut out = Vec::new();
        t.rows(&mut out, rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    const COLS: [Col; 3] = [
        Col::right("", 4, 4),
        Col::left(" ", 28, 6),
        Col::left(" ", 0, 10),
    ];

    #[test]
    fn without_a_width_each_row_is_one_line_padded_to_the_fixed_widths() {
        let rows = vec![vec!["1.", "COM", "since between 2013-12-09 and 2013-12-11"]];
        let t = Table::fitted("  ", &COLS, None, &rows);
        assert_eq!(
            text(&t, &rows),
            format!(
                "  {:>4} {:<28} {}\n",
                "1.", "COM", "since between 2013-12-09 and 2013-12-11"
            )
        );
    }

    #[test]
    fn with_a_width_no_line_is_wider_and_every_word_is_kept_in_its_column() {
        let long = "since between 2014-04-15 and 2015-04-15; 20th signatory per 001_b52fe36b9d9e19bc.txt (seq 42)";
        let rows = vec![
            vec!["20.", "LBY", long],
            vec!["32.", "unidentified:signatory-x", "since 2016"],
        ];
        for w in [40, 60, 80] {
            let t = Table::fitted("  ", &COLS, Some(w), &rows);
            let out = text(&t, &rows);
            assert!(out.lines().all(|l| len(l) <= w), "{w}:\n{out}");
            let shown: String = out.split_whitespace().collect();
            for word in long.split(' ').chain(["LBY", "20.", "32."]) {
                assert!(shown.contains(word), "{w}: {word} lost:\n{out}");
            }
        }
    }

    #[test]
    fn a_cell_wraps_at_spaces_and_breaks_only_words_wider_than_the_column() {
        assert_eq!(wrap_cell("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap_cell("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(
            wrap_cell("unidentified:observer-1", 20),
            vec!["unidentified:", "observer-1"]
        );
        assert_eq!(wrap_cell("", 4), vec![""]);
        assert_eq!(wrap_cell("short", 10), vec!["short"]);
        // Wide characters take two columns each.
        assert_eq!(
            wrap_cell("日本語テキスト", 6),
            vec!["日本語", "テキス", "ト"]
        );
        assert!(wrap_cell("日本語 テキスト", 8).iter().all(|l| len(l) <= 8));
    }
}
