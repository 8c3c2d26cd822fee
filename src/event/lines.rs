//! JSON Lines input: one event per line, read and parsed in bounded memory, optionally on a
//! second thread so that parsing overlaps with what the caller does with the events (an
//! append's SQLite writes).

use std::io::{self, BufRead};
use std::sync::mpsc;

use super::{parse_line, Event, IntoPrepared, Location, ParseError, Prepared};

/// One parsed line: the event with where it came from, or why the line is not an event.
pub type Parsed = Result<(Location, Event), ParseError>;

/// One parsed line with its event already serialized to canonical JSON ([`Prepared`]).
pub type Ready = Result<Prepared, ParseError>;

/// Events parsed from a reader one line at a time; blank lines are skipped and lines are
/// numbered from 1. A read error ends the iteration and is kept in [`JsonLines::failed`].
pub struct JsonLines<R> {
    reader: R,
    line: usize,
    buf: Vec<u8>,
    failed: Option<io::Error>,
}

impl<R: BufRead> JsonLines<R> {
    /// Reads `reader` from its current position.
    pub fn new(reader: R) -> JsonLines<R> {
        JsonLines {
            reader,
            line: 0,
            buf: Vec::new(),
            failed: None,
        }
    }

    /// The read error that ended the input early, if any (the input is then incomplete).
    pub fn failed(self) -> Option<io::Error> {
        self.failed
    }
}

impl<R: BufRead> Iterator for JsonLines<R> {
    type Item = Parsed;
    fn next(&mut self) -> Option<Parsed> {
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.failed = Some(e);
                    return None;
                }
            }
            self.line += 1;
            let loc = Location::Line(self.line);
            let text = match std::str::from_utf8(&self.buf) {
                Ok(t) => t,
                Err(e) => {
                    return Some(Err(ParseError {
                        location: loc,
                        field: None,
                        message: format!("not valid UTF-8 (byte {})", e.valid_up_to()),
                    }))
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            return Some(parse_line(loc, text));
        }
    }
}

/// Lines parsed per message between the threads: large enough that the channel costs nothing
/// per event, small enough that memory stays flat.
const CHUNK: usize = 256;
/// Chunks in flight: the parser runs at most this far ahead of the consumer.
const IN_FLIGHT: usize = 4;

/// Runs `consume` over the events of `reader`, which a second thread reads, parses and
/// serializes to canonical JSON while `consume` works, in the same order as [`JsonLines`]
/// yields them. Returns what `consume` returned and the read error that cut the input short, if
/// any. If `consume` stops early, the parsing thread stops too; memory is bounded by a few
/// chunks of lines.
pub fn with_parsed_lines<R, T>(
    reader: R,
    consume: impl FnOnce(&mut dyn Iterator<Item = Ready>) -> T,
) -> (T, Option<io::Error>)
where
    R: BufRead + Send,
{
    // The reader goes to the parsing thread; if no thread can be started, back to this one.
    let reader = std::sync::Mutex::new(Some(reader));
    let take = || reader.lock().ok().and_then(|mut r| r.take());
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::sync_channel::<Vec<Ready>>(IN_FLIGHT);
        let parser = std::thread::Builder::new()
            .name("iofs-parse".into())
            .spawn_scoped(s, move || {
                let mut lines = JsonLines::new(take()?);
                loop {
                    let chunk: Vec<Ready> = lines
                        .by_ref()
                        .take(CHUNK)
                        .map(IntoPrepared::into_prepared)
                        .collect();
                    // A closed channel means the consumer has stopped: so does the parser.
                    if chunk.is_empty() || tx.send(chunk).is_err() {
                        break;
                    }
                }
                lines.failed()
            });
        let Ok(parser) = parser else {
            // No second thread to be had: parse on this one.
            let Some(reader) = take() else {
                let none: &mut dyn Iterator<Item = Ready> = &mut std::iter::empty();
                return (
                    consume(none),
                    Some(io::Error::other(
                        "the input was lost when no parsing thread could start",
                    )),
                );
            };
            let mut lines = JsonLines::new(reader);
            let out = consume(&mut lines.by_ref().map(IntoPrepared::into_prepared));
            return (out, lines.failed());
        };
        let out = {
            let mut events = rx.iter().flatten();
            consume(&mut events)
        };
        drop(rx);
        let failed = parser.join().unwrap_or_else(|_| {
            Some(io::Error::other(
                "the thread parsing the input stopped unexpectedly",
            ))
        });
        (out, failed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jsonl(n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            s.push_str(&format!(
                "{{\"type\":\"statute_signed\",\"date\":\"2020-01-01\",\"party\":\"SEN\",\"source\":{{\"document\":\"d\",\"quote\":\"q{i}\"}}}}\n\n"
            ));
        }
        s
    }

    #[test]
    fn the_threaded_reader_yields_what_the_plain_one_does_in_order() {
        let text = format!("{}not json\n{}", jsonl(600), jsonl(3));
        let plain: Vec<String> = JsonLines::new(text.as_bytes())
            .map(|r| format!("{r:?}"))
            .collect();
        let (threaded, failed) = with_parsed_lines(text.as_bytes(), |it| {
            it.map(|r| {
                if let Ok(p) = &r {
                    assert_eq!(p.body(), p.event().canonical_json());
                }
                format!("{:?}", r.map(|p| (p.location, p.event().clone())))
            })
            .collect::<Vec<_>>()
        });
        assert!(failed.is_none());
        assert_eq!(plain.len(), 604);
        assert_eq!(threaded, plain);
        assert!(plain[600].contains("Line(1201)"), "{}", plain[600]);
    }

    #[test]
    fn a_consumer_that_stops_early_does_not_hang_the_parser() {
        let text = jsonl(10 * CHUNK * IN_FLIGHT);
        let (taken, failed) = with_parsed_lines(text.as_bytes(), |it| it.take(3).count());
        assert_eq!(taken, 3);
        assert!(failed.is_none());
    }

    #[test]
    fn a_read_error_is_reported_after_the_lines_before_it() {
        struct Broken<'a>(&'a [u8]);
        impl io::Read for Broken<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = out.len().min(self.0.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let text = jsonl(2);
        let (n, failed) = with_parsed_lines(io::BufReader::new(Broken(text.as_bytes())), |it| {
            it.filter(|r| r.is_ok()).count()
        });
        assert_eq!(n, 2);
        assert_eq!(
            failed.map(|e| e.to_string()).as_deref(),
            Some("disk on fire")
        );
    }
}
