//! Progress on stderr for long work (indicatif): drawn only when stderr is a terminal and
//! `--quiet` is not given, and cleared when the work ends, so scripts and pipes see nothing.
//! A bar of bytes read for an input of known size (`append FILE`), else a spinner with the
//! time spent.

use std::io::{IsTerminal, Read};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress indicator, or nothing.
pub struct Progress(Option<ProgressBar>);

fn shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

impl Progress {
    /// A spinner with a message and the time spent (`verify`, `rebuild`, `audit`).
    pub fn spinner(quiet: bool, msg: &'static str) -> Progress {
        if !shown(quiet) {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(msg);
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    /// Progress through an input of `len` bytes (a spinner counting bytes when the size is not
    /// known, as for standard input).
    pub fn bytes(quiet: bool, len: Option<u64>, msg: &'static str) -> Progress {
        if !shown(quiet) {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
        let template = match len {
            Some(_) => "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta} left)",
            None => "{spinner} {msg}: {bytes} read ({elapsed})",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(msg);
        if len.is_none() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Progress(Some(bar))
    }

    /// The reader, counting what is read into the bar.
    pub fn wrap(&self, r: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        match &self.0 {
            Some(bar) => Box::new(bar.wrap_read(r)),
            None => r,
        }
    }

    /// Clears the indicator.
    pub fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}
