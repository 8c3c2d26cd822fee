//! The README's console examples reproduce: every `console` block of `README.md` runs, in
//! order, with trycmd against the binary just built, in a scratch copy of `tests/cmd/README.in`
//! (`tests/cmd/README.md` is a link to the README, so the examples are the test data and
//! cannot drift from the binary). `TRYCMD=overwrite cargo test --test readme` rewrites the
//! expected output in place after a deliberate change (check the diff of README.md).
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
    cases
        // The default ledger path, whatever the environment running the tests says.
        .env("IOFS_LEDGER_DB", "iofs-ledger.db")
        .case("tests/cmd/README.md");
}
