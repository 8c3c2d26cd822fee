#!/usr/bin/env bash
# Builds and installs everything benches/peers/run.py measures, from package registries only:
# the ledger's release binary and synth example, the cqrs-es + sqlite-es peer (its own Cargo
# project and lock file, built into target/peers/cqrs) and Python eventsourcing (pinned in
# benches/peers/python/requirements.txt, in a virtual environment at target/peers/venv).
# IOFS_PEERS_PEERS=none skips both peers (the ledger and the floors only).
set -euo pipefail
cd "$(dirname "$0")/../.."
peers="${IOFS_PEERS_PEERS:-python,cqrs}"
for tool in sqlite3 sha256sum python3; do
    command -v "$tool" >/dev/null || { echo "peers: $tool is required (apt-get install sqlite3 coreutils python3)" >&2; exit 1; }
done
cargo build --locked --release --bin iofs-ledger --example synth
if [[ ",$peers," == *",cqrs,"* ]]; then
    (cd benches/peers/cqrs && CARGO_TARGET_DIR="$PWD/../../../target/peers/cqrs" \
        cargo build --locked --release)
fi
if [[ ",$peers," == *",python,"* ]]; then
    venv=target/peers/venv
    req=benches/peers/python/requirements.txt
    if ! cmp -s "$req" "$venv/requirements.txt" 2>/dev/null; then
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
        cp "$req" "$venv/requirements.txt"
    fi
fi
