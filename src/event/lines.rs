//! JSON Lines input: one event per line, read and parsed in bounded memory, optionally on a
//! second thread so that parsing overlaps with what the caller does with the events (an
//! append's SQLite writes).

use std::io::{self, BufRead};
use std::sync::mpsc;

use serde::de;

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
    with_parsed(
        move |send: &mut dyn FnMut(Vec<Ready>) -> bool| {
            let mut lines = JsonLines::new(reader);
            loop {
                let chunk: Vec<Ready> = lines
                    .by_ref()
                    .take(CHUNK)
                    .map(IntoPrepared::into_prepared)
                    .collect();
                // A closed channel means the consumer has stopped: so does the parser.
                if chunk.is_empty() || !send(chunk) {
                    break;
                }
            }
            lines.failed()
        },
        consume,
    )
}

/// Like [`with_parsed_lines`] for one JSON array of events: the array is read element by
/// element (a streaming deserializer, never the whole array in memory), each element located by
/// its index. Malformed JSON is reported as one parse error at its line.
pub fn with_parsed_array<R, T>(
    reader: R,
    consume: impl FnOnce(&mut dyn Iterator<Item = Ready>) -> T,
) -> (T, Option<io::Error>)
where
    R: io::Read + Send,
{
    with_parsed(
        move |send: &mut dyn FnMut(Vec<Ready>) -> bool| array_items(reader, send),
        consume,
    )
}

/// Runs `produce` (which hands chunks of items to its sink, and stops when the sink returns
/// false) on a second thread and `consume` on this one, a bounded channel between them. Where
/// the OS refuses a thread, `produce` runs first on this thread and `consume` after it.
fn with_parsed<P, T>(
    produce: P,
    consume: impl FnOnce(&mut dyn Iterator<Item = Ready>) -> T,
) -> (T, Option<io::Error>)
where
    P: FnOnce(&mut dyn FnMut(Vec<Ready>) -> bool) -> Option<io::Error> + Send,
{
    // The producer goes to the parsing thread; if no thread can be started, back to this one.
    let producer = std::sync::Mutex::new(Some(produce));
    let take = || producer.lock().ok().and_then(|mut r| r.take());
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::sync_channel::<Vec<Ready>>(IN_FLIGHT);
        let parser = std::thread::Builder::new()
            .name("iofs-parse".into())
            .spawn_scoped(s, move || {
                let produce = take()?;
                produce(&mut |chunk| tx.send(chunk).is_ok())
            });
        let Ok(parser) = parser else {
            // No second thread to be had: parse on this one, then consume.
            let Some(produce) = take() else {
                let none: &mut dyn Iterator<Item = Ready> = &mut std::iter::empty();
                return (
                    consume(none),
                    Some(io::Error::other(
                        "the input was lost when no parsing thread could start",
                    )),
                );
            };
            let mut all: Vec<Ready> = Vec::new();
            let failed = produce(&mut |chunk| {
                all.extend(chunk);
                true
            });
            let out = consume(&mut all.into_iter());
            return (out, failed);
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

/// Reads one JSON array element by element, handing chunks of parsed elements to `send`.
fn array_items<R: io::Read>(
    reader: R,
    send: &mut dyn FnMut(Vec<Ready>) -> bool,
) -> Option<io::Error> {
    let mut chunk: Vec<Ready> = Vec::with_capacity(CHUNK);
    let mut stopped = false;
    let failed = for_each_array_item(reader, &mut |item| {
        chunk.push(item.into_prepared());
        if chunk.len() >= CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
            if !send(full) {
                stopped = true;
                return false;
            }
        }
        true
    });
    if !stopped && !chunk.is_empty() {
        send(chunk);
    }
    failed
}

/// Reads one JSON array element by element on the calling thread and calls `f` with each
/// element parsed as an event (located by its index), or with the one error that malformed
/// JSON makes (located by its line); `f` returns false to stop. Returns the read error that cut
/// the input short, if any. Memory holds one element at a time.
pub fn for_each_array_item<R: io::Read>(
    reader: R,
    f: &mut dyn FnMut(Parsed) -> bool,
) -> Option<io::Error> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut sink = ArraySink {
        f,
        index: 0,
        stopped: false,
    };
    let result = de::DeserializeSeed::deserialize(&mut sink, &mut de).and_then(|()| de.end());
    if sink.stopped {
        return None;
    }
    match result {
        Ok(()) => None,
        Err(e) if e.is_io() => Some(io::Error::other(e.to_string())),
        Err(e) => {
            (sink.f)(Err(ParseError {
                location: Location::Line(e.line()),
                field: None,
                message: if e.to_string().starts_with("invalid unicode code point") {
                    format!("malformed JSON array: not valid UTF-8, or an invalid \\u escape ({e})")
                } else {
                    format!("malformed JSON array: {e}")
                },
            }));
            None
        }
    }
}

/// Receives the elements of a JSON array as raw text and parses each as an event.
struct ArraySink<'a> {
    f: &'a mut dyn FnMut(Parsed) -> bool,
    index: usize,
    stopped: bool,
}

impl<'de> de::DeserializeSeed<'de> for &mut ArraySink<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> de::Visitor<'de> for &mut ArraySink<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of events")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<serde_json::value::RawValue>>()? {
            let item = parse_line(Location::Index(self.index), raw.get());
            self.index += 1;
            if !(self.f)(item) {
                // The consumer has stopped: stop reading.
                self.stopped = true;
                return Err(de::Error::custom("the consumer stopped"));
            }
        }
        Ok(())
    }
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

    #[test]
    fn an_array_yields_its_elements_in_order_located_by_index() {
        let one = |i: usize| {
            format!("{{\"type\":\"statute_signed\",\"date\":\"2020-01-01\",\"party\":\"SEN\",\"source\":{{\"document\":\"d\",\"quote\":\"q{i}\"}}}}")
        };
        let items: Vec<String> = (0..600).map(one).chain(["3".to_string()]).collect();
        let text = format!("[\n{}\n]", items.join(",\n"));
        let (got, failed) = with_parsed_array(text.as_bytes(), |it| {
            it.map(|r| match r {
                Ok(p) => format!("{} ok", p.location),
                Err(e) => format!("{} {}", e.location, e.message),
            })
            .collect::<Vec<_>>()
        });
        assert!(failed.is_none());
        assert_eq!(got.len(), 601);
        assert_eq!(got[0], "array index 0 ok");
        assert_eq!(got[599], "array index 599 ok");
        assert!(got[600].starts_with("array index 600"), "{}", got[600]);
    }

    #[test]
    fn a_malformed_array_is_one_error_at_its_line_after_the_elements_before_it() {
        let text = "[{\"type\":\"statute_adopted\",\"date\":\"2013\",\"source\":{\"document\":\"d\",\"quote\":\"q\"}},\n{oops";
        let (got, failed) = with_parsed_array(text.as_bytes(), |it| {
            it.map(|r| r.map(|_| ()).map_err(|e| (e.location, e.message)))
                .collect::<Vec<_>>()
        });
        assert!(failed.is_none());
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        let (loc, msg) = got[1].clone().unwrap_err();
        assert_eq!(loc, Location::Line(2));
        assert!(msg.contains("malformed JSON array"), "{msg}");
    }

    #[test]
    fn a_consumer_that_stops_early_stops_the_array_reader() {
        let one = "{\"type\":\"statute_adopted\",\"date\":\"2013\",\"source\":{\"document\":\"d\",\"quote\":\"q\"}}";
        let text = format!("[{}]", vec![one; 10 * CHUNK * IN_FLIGHT].join(","));
        let (taken, failed) = with_parsed_array(text.as_bytes(), |it| it.take(3).count());
        assert_eq!(taken, 3);
        assert!(failed.is_none());
    }
}
