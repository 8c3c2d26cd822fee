//! The README's console examples reproduce: every `console` block of `README.md` runs, in
//! order, with trycmd against the binary just built, in a scratch copy of `tests/cmd/README.in`
//! (`tests/cmd/README.md` is a link to the README, so the examples are the test data and
//! cannot drift from the binary). `TRYCMD=overwrite cargo test --test readme` rewrites the
//! expected output in place after a deliberate change (check the diff of README.md). The SQL
//! examples need the `sqlite3` shell (required under `CI=true`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn the_readme_console_examples_reproduce() {
    let cases = trycmd::TestCases::new();
    cases.register_bin("iofs-ledger", trycmd::cargo::cargo_bin!("iofs-ledger"));
    // `cat` shows the input file; where there is none, its step is reported as ignored.
    if let Some(cat) = ["/bin/cat", "/usr/bin/cat"]
        .into_iter()
        .map(std::path::Path::new)
        .find(|p| p.exists())
    {
        cases.register_bin("cat", cat);
    }
    // The SQL examples run with the `sqlite3` shell; without it their steps are reported as
    // ignored, except under CI=true, where a missing shell fails the test.
    match which("sqlite3") {
        Some(sqlite3) => {
            cases.register_bin("sqlite3", sqlite3);
        }
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("the README's SQL examples need the `sqlite3` shell, and CI=true")
        }
        None => {
            eprintln!("SKIPPED: the README's SQL examples (the `sqlite3` shell is not installed)")
        }
    }
    cases
        // The default ledger path, whatever the environment running the tests says.
        .env("IOFS_LEDGER_DB", "iofs-ledger.db")
        .case("tests/cmd/README.md");
}

/// The first `name` on `PATH`.
fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
