//! `serve`: starts the web service ([`iofs_ledger::serve`]) and says where it listens.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use iofs_ledger::serve::{read_token, shutdown_signal, Config, ServeError, Server};

use super::CliError;

/// Runs the service until SIGINT or SIGTERM. The first line of output is
/// `listening on http://ADDR`; requests are logged on standard error.
pub fn serve(
    db: PathBuf,
    lock_timeout: Duration,
    bind: &str,
    token_file: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut config = Config::new(db);
    config.lock_timeout = lock_timeout;
    config.write_token = token_file.map(read_token).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Io)?;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .try_init();
    runtime.block_on(async {
        let server = Server::bind(bind, config.clone()).await?;
        let addr = server.local_addr()?;
        writeln!(out, "listening on http://{addr}")?;
        writeln!(
            out,
            "{}",
            if config.write_token.is_some() {
                "appends: POST /api/events with the token of --write-token-file"
            } else {
                "read-only (no --write-token-file)"
            }
        )?;
        out.flush()?;
        server.run(shutdown_signal()).await?;
        writeln!(out, "stopped")?;
        Ok::<(), CliError>(())
    })
}
