#!/usr/bin/env bash
# The independent verifier (tools/verify_chain.py, Python's standard library only) against the
# binary: on the built-in history and a 100,000-event synthetic ledger the two must print the
# same head, from the .db file and from `log --json`; on tampered copies the verifier must fail
# and name the seq that was changed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "verify-chain: python3 is required" >&2; exit 1; }
cargo build --locked --release --bin iofs-ledger --example synth
B=target/release/iofs-ledger
SYNTH=target/release/examples/synth
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py() { python3 tools/verify_chain.py "$@"; }

check_same_head() { # DB
  local want got_db got_log
  want=$("$B" --db "$1" head)
  got_db=$(py "$1" 2>/dev/null)
  got_log=$("$B" --db "$1" log --json | py - 2>/dev/null)
  [ "$want" = "$got_db" ] && [ "$want" = "$got_log" ] || {
    echo "verify-chain: heads differ on $1: binary $want, python (db) $got_db, python (log) $got_log" >&2
    exit 1
  }
  echo "verify-chain: $1: binary and python agree on $want"
}

check_tamper_named() { # DB SEQ SQL
  local copy="$work/tampered.db" err
  rm -f "$copy"
  cp "$1" "$copy"
  python3 - "$copy" "$3" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;" + sys.argv[2])
c.commit()
PY
  if err=$(py "$copy" 2>&1 >/dev/null); then
    echo "verify-chain: python accepted a tampered copy ($3)" >&2; exit 1
  fi
  case "$err" in
    *"FAILED at seq $2:"*) echo "verify-chain: tampered ($3): python fails at seq $2" ;;
    *) echo "verify-chain: python did not name seq $2: $err" >&2; exit 1 ;;
  esac
  if "$B" --db "$copy" verify >/dev/null 2>&1; then
    echo "verify-chain: the binary accepted a tampered copy ($3)" >&2; exit 1
  fi
}

"$B" --db "$work/builtin.db" init >/dev/null
check_same_head "$work/builtin.db"
[ "$("$B" --db "$work/builtin.db" head)" = "$("$B" --db "$work/none.db" head 2>/dev/null)" ]

"$B" --db "$work/synth.db" init --empty >/dev/null
"$SYNTH" 100000 > "$work/synth.jsonl"
"$B" --db "$work/synth.db" append "$work/synth.jsonl" >/dev/null
check_same_head "$work/synth.db"

for db in "$work/builtin.db" "$work/synth.db"; do
  check_tamper_named "$db" 40 "UPDATE events SET body = replace(body, '\"date\":\"', '\"date\":\"1') WHERE seq = 40;"
  check_tamper_named "$db" 7 "UPDATE events SET recorded_at = '2000-01-01T00:00:00.000000Z' WHERE seq = 7;"
  check_tamper_named "$db" 12 "DELETE FROM events WHERE seq = 12;"
done
echo "verify-chain: ok"
