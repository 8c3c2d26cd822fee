//! Progress on stderr for long work (indicatif), and only for long work: drawn only when
//! stderr is a terminal, `--quiet` is not given, and the work is still going after a second
//! (a quick answer never flickers a bar), then cleared when the work ends. Scripts, pipes and
//! files see nothing. A bar of bytes read for an input of known size (`append FILE`,
//! `import FILE`), else a spinner with the time spent (`verify`, `rebuild`, `audit`, `report`).
//!
//! The delay before anything is drawn is `IOFS_LEDGER_PROGRESS_DELAY_MS` milliseconds when
//! that is set (1000 otherwise): `0` draws at once, which is how the tests make a short job
//! "long" without timing anything.

use std::io::{IsTerminal, Read};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress indicator (hidden until the work has lasted the delay), or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Tells the thread waiting out the delay that the work ended first.
    waiting: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

fn shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// How long work must last before its progress is drawn.
fn delay() -> Duration {
    let ms = std::env::var("IOFS_LEDGER_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1000);
    Duration::from_millis(ms)
}

/// Draws `bar` on stderr from now on.
fn draw(bar: &ProgressBar, spin: bool) {
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if spin {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar.tick();
}

impl Progress {
    fn none() -> Progress {
        Progress {
            bar: None,
            waiting: None,
        }
    }

    /// Starts `bar` hidden, and draws it once the delay has passed unless the work ended.
    fn after_delay(bar: ProgressBar, spin: bool) -> Progress {
        let d = delay();
        if d.is_zero() {
            draw(&bar, spin);
            return Progress {
                bar: Some(bar),
                waiting: None,
            };
        }
        let (tx, rx) = mpsc::channel::<()>();
        let b = bar.clone();
        let waiting = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(d) {
                    draw(&b, spin);
                }
            })
            .ok()
            .map(|h| (tx, h));
        Progress {
            bar: Some(bar),
            waiting,
        }
    }

    /// A spinner with a message and the time spent (`verify`, `rebuild`, `audit`, `report`).
    pub fn spinner(quiet: bool, msg: &'static str) -> Progress {
        if !shown(quiet) {
            return Progress::none();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(msg);
        Progress::after_delay(bar, true)
    }

    /// Progress through an input of `len` bytes (a spinner counting bytes when the size is not
    /// known, as for standard input).
    pub fn bytes(quiet: bool, len: Option<u64>, msg: &'static str) -> Progress {
        if !shown(quiet) {
            return Progress::none();
        }
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden());
        let template = match len {
            Some(_) => "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta} left)",
            None => "{spinner} {msg}: {bytes} read ({elapsed})",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(msg);
        Progress::after_delay(bar, len.is_none())
    }

    /// The reader, counting what is read into the bar.
    pub fn wrap(&self, r: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        match &self.bar {
            Some(bar) => Box::new(bar.wrap_read(r)),
            None => r,
        }
    }

    /// Ends the work: nothing more is drawn, and what was drawn is cleared.
    pub fn finish(self) {
        if let Some((tx, h)) = self.waiting {
            drop(tx);
            let _ = h.join();
        }
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
