//! The built-in history: `events/history.jsonl`, compiled into the binary.

/// The JSON Lines text of the built-in history.
pub const BUILTIN_HISTORY: &str = include_str!("../events/history.jsonl");
