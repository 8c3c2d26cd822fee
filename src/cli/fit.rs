//! Text that fits the terminal: when stdout is a terminal, lines of a text answer wider than
//! the terminal are wrapped at a space, each continuation indented under its line's text, so
//! a member list, a history or an audit reads without horizontal scrolling. Pipes and files
//! get the lines whole (scripts and `grep` see one record per line).

use std::io::{self, IsTerminal, Write};

/// The width answers for people are laid out to, set once by [`init_width`].
static WIDTH: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();

/// The width text answers are laid out to (tables in columns, long lines wrapped), or `None`
/// for whole lines:
/// - `IOFS_LEDGER_COLUMNS=N` lays out to N columns wherever the output goes (for a pager that
///   keeps the layout, and to test the terminal layout without a terminal); `0` turns the
///   layout off, even on a terminal;
/// - otherwise, when stdout is a terminal: `COLUMNS` if it is set to a number, else the
///   terminal's own width;
/// - otherwise (a pipe or a file): `None`, so scripts get one record per line, never cut.
///
/// Widths under 40 are taken as 40.
pub fn terminal_width() -> Option<usize> {
    let number = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
    };
    if let Some(n) = number("IOFS_LEDGER_COLUMNS") {
        return (n > 0).then_some(n.max(40));
    }
    if !io::stdout().is_terminal() {
        return None;
    }
    number("COLUMNS")
        .filter(|n| *n > 0)
        .or_else(|| {
            console::Term::stdout()
                .size_checked()
                .map(|(_, cols)| usize::from(cols))
                .filter(|w| *w > 0)
        })
        .map(|w| w.max(40))
}

/// Decides the width once for the whole run (`None` for output that is not text for people).
pub fn init_width(text: bool) -> Option<usize> {
    *WIDTH.get_or_init(|| terminal_width().filter(|_| text))
}

/// The width decided by [`init_width`] (`None` before it, or for whole lines).
pub fn width() -> Option<usize> {
    WIDTH.get().copied().flatten()
}

/// A writer that wraps each line wider than `width` characters.
pub struct Fit<W: Write> {
    inner: W,
    width: usize,
    line: Vec<u8>,
}

impl<W: Write> Fit<W> {
    /// Wraps lines written to `inner` at `width` characters.
    pub fn new(inner: W, width: usize) -> Fit<W> {
        Fit {
            inner,
            width,
            line: Vec::new(),
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        for (i, part) in wrap(&line, self.width).iter().enumerate() {
            if i > 0 {
                self.inner.write_all(b"\n")?;
            }
            self.inner.write_all(part.as_bytes())?;
        }
        Ok(())
    }
}

/// Splits `line` into pieces of at most `width` terminal columns (a wide character, such as
/// CJK, counts two; a zero-width one none), breaking at the last space that fits (mid-word only
/// when a word is wider than the room); continuations are indented four columns more than the
/// line's own indentation.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    fn cols(c: char) -> usize {
        unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)
    }
    if unicode_width::UnicodeWidthStr::width(line) <= width {
        return vec![line.to_string()];
    }
    let chars: Vec<char> = line.chars().collect();
    let indent = chars.iter().take_while(|c| **c == ' ').count();
    let hang = (indent + 4).min(width / 2);
    let mut out = Vec::new();
    let mut rest: &[char] = &chars;
    let mut first = true;
    loop {
        let room = if first { width } else { width - hang };
        // The longest start of `rest` that fits in `room` columns.
        let (mut fit, mut used) = (0, 0);
        while fit < rest.len() && used + cols(rest[fit]) <= room {
            used += cols(rest[fit]);
            fit += 1;
        }
        if fit == rest.len() {
            let piece: String = rest.iter().collect();
            out.push(if first {
                piece
            } else {
                format!("{}{piece}", " ".repeat(hang))
            });
            break;
        }
        // Break at the last space up to the first character that does not fit; at least one
        // character goes on each piece, so a character wider than the room cannot stall it.
        let cut = rest[..=fit]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|p| *p > indent.min(fit / 2))
            .unwrap_or(fit)
            .max(1);
        let piece: String = rest[..cut]
            .iter()
            .collect::<String>()
            .trim_end()
            .to_string();
        out.push(if first {
            piece
        } else {
            format!("{}{piece}", " ".repeat(hang))
        });
        rest = &rest[cut..];
        while rest.first() == Some(&' ') {
            rest = &rest[1..];
        }
        first = false;
        if rest.is_empty() {
            break;
        }
    }
    out
}

impl<W: Write> Write for Fit<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &b in buf {
            if b == b'\n' {
                self.emit()?;
                self.inner.write_all(b"\n")?;
            } else {
                self.line.push(b);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.line.is_empty() {
            self.emit()?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_line_is_wider_than_the_width_and_no_word_is_lost() {
        let line = "  seq 131   observer_admitted      unidentified:observer-1      only bounds are known (between 2013-12-10 and 2024): it may have happened by 2024-03-01";
        for width in [40, 60, 80, 100] {
            let parts = wrap(line, width);
            assert!(
                parts.iter().all(|p| p.chars().count() <= width),
                "{width}: {parts:?}"
            );
            let words: Vec<&str> = parts.iter().flat_map(|p| p.split_whitespace()).collect();
            assert_eq!(
                words,
                line.split_whitespace().collect::<Vec<_>>(),
                "{width}"
            );
            assert!(
                parts[1..].iter().all(|p| p.starts_with("      ")),
                "{parts:?}"
            );
        }
        assert_eq!(wrap("short", 80), vec!["short"]);
    }

    /// Wide characters count two columns and zero-width ones none: no piece is wider than the
    /// width on a terminal, and no character is lost.
    #[test]
    fn wide_and_zero_width_characters_are_measured_in_columns() {
        let line = "  source d東京都千代田区霞が関二丁目の資料館\u{200b}にある文書 東京都 \u{1F468}\u{200D}\u{1F469} café e\u{301} quote";
        for width in [10, 20, 40, 60] {
            let parts = wrap(line, width);
            assert!(
                parts
                    .iter()
                    .all(|p| unicode_width::UnicodeWidthStr::width(p.as_str()) <= width),
                "{width}: {parts:?}"
            );
            let joined: String = parts.concat().chars().filter(|c| *c != ' ').collect();
            let want: String = line.chars().filter(|c| *c != ' ').collect();
            assert_eq!(joined, want, "{width}");
        }
    }

    #[test]
    fn the_writer_wraps_each_long_line_and_keeps_short_ones_and_blank_lines() {
        let mut out = Vec::new();
        {
            let mut f = Fit::new(&mut out, 40);
            write!(f, "a short line\n\n{}\nlast", "word ".repeat(20).trim_end()).unwrap();
            f.flush().unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a short line");
        assert_eq!(lines[1], "");
        assert!(
            lines.len() > 4 && lines.iter().all(|l| l.chars().count() <= 40),
            "{text}"
        );
        assert_eq!(*lines.last().unwrap(), "last");
    }
}
