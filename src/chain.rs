//! The hash chain: each stored event's hash covers the previous hash, its seq, its
//! `recorded_at` and its canonical JSON, so changing any stored value of any event, or removing,
//! reordering or inserting one, changes every later hash.

use sha2::{Digest, Sha256};

/// The `prev` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 (lower-case hex) of `prev \n seq \n recorded_at \n body`.
pub fn event_hash(prev: &str, seq: u64, recorded_at: &str, body: &str) -> String {
    hex::encode(event_digest(prev, seq, recorded_at, body))
}

/// The digest [`event_hash`] writes in hex.
pub fn event_digest(prev: &str, seq: u64, recorded_at: &str, body: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(recorded_at.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    h.finalize().into()
}

/// Whether `stored` is `digest` written as [`event_hash`] writes it (lower-case hex).
pub fn is_hex_of(stored: &str, digest: &[u8; 32]) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let s = stored.as_bytes();
    s.len() == 64
        && digest.iter().zip(s.chunks_exact(2)).all(|(b, pair)| {
            pair[0] == HEX[usize::from(b >> 4)] && pair[1] == HEX[usize::from(b & 15)]
        })
}

/// SHA-256 (lower-case hex) of an event's canonical JSON alone: what a retraction or correction
/// names as its `target_sha256`, the same in every ledger that holds the event.
pub fn body_sha256(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_the_hex_of_its_digest_and_nothing_else_is() {
        let d = event_digest(GENESIS, 7, "2026-01-01T00:00:00.000000Z", "{}");
        let h = event_hash(GENESIS, 7, "2026-01-01T00:00:00.000000Z", "{}");
        assert!(is_hex_of(&h, &d));
        assert!(!is_hex_of(&h.to_uppercase(), &d));
        assert!(!is_hex_of(&h[..63], &d));
        assert!(!is_hex_of(&format!("{h}0"), &d));
        for i in 0..64 {
            let mut other: Vec<u8> = h.bytes().collect();
            other[i] = if other[i] == b'0' { b'1' } else { b'0' };
            assert!(
                !is_hex_of(&String::from_utf8(other).unwrap(), &d),
                "digit {i}"
            );
        }
    }

    #[test]
    fn every_input_changes_the_hash() {
        let base = event_hash(GENESIS, 1, "2026-01-01T00:00:00.000000Z", "{}");
        assert_eq!(base.len(), 64);
        assert_ne!(
            base,
            event_hash(GENESIS, 2, "2026-01-01T00:00:00.000000Z", "{}")
        );
        assert_ne!(
            base,
            event_hash(GENESIS, 1, "2026-01-01T00:00:00.000001Z", "{}")
        );
        assert_ne!(
            base,
            event_hash(GENESIS, 1, "2026-01-01T00:00:00.000000Z", "{ }")
        );
        assert_ne!(
            base,
            event_hash(&base, 1, "2026-01-01T00:00:00.000000Z", "{}")
        );
    }

    /// Both hashes are SHA-256 in lower-case hex of exactly the documented input (values worked
    /// out independently, with Python's `hashlib`): a ledger written by another implementation
    /// of the format, or a `target_sha256` computed outside, must agree.
    #[test]
    fn the_hashes_are_sha256_of_exactly_the_documented_input() {
        assert_eq!(
            body_sha256("{}"),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(
            event_hash(GENESIS, 1, "2026-01-01T00:00:00.000000Z", "{}"),
            "539cc265ccfd3dd6b8ab523643a6d9b41ba9e616670ca90bbb87a2816d022b8e"
        );
        assert_ne!(body_sha256("{}"), body_sha256("{ }"));
    }
}
