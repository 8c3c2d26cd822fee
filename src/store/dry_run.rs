//! Dry runs: an append carried out in full (every parse check, record rule and world rule, the
//! seqs and hashes it would assign, the read models it would write) inside a transaction that
//! is then rolled back, so that the answers it would change can be read before and after.
//!
//! **Nothing persists.** The batch is written under a savepoint inside the append's
//! `BEGIN IMMEDIATE` transaction; the caller reads the ledger with the batch, the savepoint is
//! rolled back, the caller reads it without, and the whole transaction is rolled back. The
//! connection is told not to checkpoint the WAL when it closes, so not even frames that other
//! writers committed are copied into the file by a dry run.

use rusqlite::Connection;

use super::{Appended, Ctx, Ledger, StoreError};
use crate::event::IntoPrepared;
use crate::store::AppendOptions;

/// Whether the ledger a dry run's reader sees holds the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The ledger as it would be after the append (read first).
    With,
    /// The ledger as it is (read second, after the batch was rolled back).
    Without,
}

/// What reads the ledger during a dry run: called with [`Phase::With`], then [`Phase::Without`].
pub(crate) type Inspect<'a> =
    &'a mut dyn FnMut(&Ledger, Phase, &Appended) -> Result<(), StoreError>;

/// Called by the append once the batch is written and every rule checked.
pub(crate) fn inspect(
    ledger: &Ledger,
    tx: &Connection,
    appended: &Appended,
    f: Inspect<'_>,
) -> Result<(), StoreError> {
    f(ledger, Phase::With, appended)?;
    tx.execute_batch("ROLLBACK TO dry_run")
        .ctx("rolling back a dry run")?;
    f(ledger, Phase::Without, appended)
}

impl Ledger {
    /// Checks a batch exactly as [`Ledger::append`] would (same refusals, same seqs), lets
    /// `read` look at the ledger with the batch ([`Phase::With`]) and then as it is
    /// ([`Phase::Without`]), and appends nothing: the transaction is rolled back and the file
    /// is left byte for byte as it was (see the module doc). Returns what the append would
    /// have stored.
    pub fn dry_run<I>(
        &mut self,
        input: I,
        opts: AppendOptions,
        read: &mut dyn FnMut(&Ledger, Phase, &Appended) -> Result<(), StoreError>,
    ) -> Result<Appended, StoreError>
    where
        I: IntoIterator,
        I::Item: IntoPrepared,
    {
        self.require_current()?;
        self.conn
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                true,
            )
            .ctx("configuring a dry run")?;
        self.append_then(input, opts, Some(read))
    }
}
