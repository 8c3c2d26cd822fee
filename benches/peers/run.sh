#!/usr/bin/env bash
# The performance table of the README in one run: the ledger, its floors and its peers on the
# same synthetic events. See benches/peers/README.md for what is measured and the settings
# (IOFS_PEERS_SIZES, IOFS_PEERS_PYTHON_SIZES, IOFS_PEERS_CQRS_SIZES, IOFS_PEERS_RUNS,
# IOFS_PEERS_PEERS, IOFS_PEERS_QUICK). Prints the markdown table; raw numbers go to
# target/peers/results.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash benches/peers/setup.sh
exec python3 benches/peers/run.py "$@"
