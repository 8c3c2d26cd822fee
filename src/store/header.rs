//! Reading a ledger file's 100-byte header without ever dropping this process's SQLite locks.
//!
//! On POSIX, closing *any* descriptor of a file releases every lock the process holds on it,
//! SQLite's included ("How To Corrupt An SQLite Database File", §2.2). So the header must never
//! be read through a descriptor that is closed while a connection to the same file is open in
//! this process (the service opens connections while others serve). The first reader of a file
//! opens one descriptor and keeps it, with a count of the ledgers open on the file; later
//! readers reuse it (a positioned read), and it is closed only when the last of those ledgers
//! has closed its connection (a [`Guard`] is the last field of `Ledger`, so it drops after the
//! connection).

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// The header's length.
pub(crate) const LEN: usize = 100;

/// A file's identity: device and inode (unchanged by renames).
type Id = (u64, u64);

struct Entry {
    /// Descriptors opened for this file; closed together when `refs` reaches 0.
    files: Vec<File>,
    refs: usize,
}

fn table() -> std::sync::MutexGuard<'static, HashMap<Id, Entry>> {
    static TABLE: OnceLock<Mutex<HashMap<Id, Entry>>> = OnceLock::new();
    let m = TABLE.get_or_init(|| Mutex::new(HashMap::new()));
    // A panic elsewhere while holding it leaves the map consistent (every change is one step).
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(unix)]
fn id(m: &Metadata) -> Id {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn id(_: &Metadata) -> Id {
    (0, 0)
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8]) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut n = 0;
    while n < buf.len() {
        match f.read_at(&mut buf[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(not(unix))]
fn read_at(mut f: &File, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::{Read, Seek, SeekFrom};
    f.seek(SeekFrom::Start(0))?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Holds a file's header descriptor open while a ledger on the file is open.
pub(crate) struct Guard(Option<Id>);

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(id) = self.0 else {
            return;
        };
        let mut t = table();
        let last = match t.get_mut(&id) {
            Some(e) => {
                e.refs = e.refs.saturating_sub(1);
                e.refs == 0
            }
            None => false,
        };
        if last {
            // No connection of this process to the file is open any more: closing is safe.
            t.remove(&id);
        }
    }
}

/// Reads up to [`LEN`] bytes of the header of `path` (whose metadata is `meta`), returning the
/// bytes read and a guard that keeps the descriptor open until dropped.
pub(crate) fn read(path: &Path, meta: &Metadata) -> io::Result<([u8; LEN], usize, Guard)> {
    let mut header = [0u8; LEN];
    if cfg!(not(unix)) {
        // Elsewhere locks belong to a handle, not to the process: a descriptor of its own,
        // closed at once, is harmless (and files have no inode to share one by).
        let f = File::open(path)?;
        let n = read_at(&f, &mut header)?;
        return Ok((header, n, Guard(None)));
    }
    let mut t = table();
    let key = id(meta);
    if let Some(e) = t.get_mut(&key) {
        if let Some(f) = e.files.first() {
            let n = read_at(f, &mut header)?;
            e.refs += 1;
            return Ok((header, n, Guard(Some(key))));
        }
    }
    let f = File::open(path)?;
    // The file opened may not be the one `meta` describes (replaced meanwhile): key it by what
    // was opened, and keep it with any descriptor already held for that file.
    let key = f.metadata().map(|m| id(&m)).unwrap_or(key);
    let n = read_at(&f, &mut header)?;
    let e = t.entry(key).or_insert(Entry {
        files: Vec::new(),
        refs: 0,
    });
    e.files.push(f);
    e.refs += 1;
    Ok((header, n, Guard(Some(key))))
}
