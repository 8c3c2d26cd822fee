#!/usr/bin/env python3
"""An independent verifier of an iofs-ledger hash chain (Python standard library only).

Reads either a ledger file (`.db`, SQLite) or a `log --json` stream (a file, or `-` for
standard input), recomputes every event's hash as docs/chain.md specifies, and prints the
head as SEQ:HASH. Exits 0 when the chain holds, 1 naming the first bad seq when it does not,
2 on a usage error.

    python3 tools/verify_chain.py ledger.db
    iofs-ledger log --json | python3 tools/verify_chain.py -

It shares no code with iofs-ledger: agreement between the two is evidence that both follow
the spec.
"""

import hashlib
import json
import re
import sqlite3
import sys

GENESIS = "0" * 64
RECORDED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
# Fields of a `log --json` line that are the store's or derived, not the event's body.
LOG_FIELDS = ("seq", "recorded_at", "hash", "retracted_by", "corrected_by")


class ChainError(Exception):
    def __init__(self, seq, why):
        super().__init__(why)
        self.seq = seq


def event_hash(prev, seq, recorded_at, body):
    """SHA-256 of `prev \\n seq \\n recorded_at \\n body`, UTF-8, lower-case hex."""
    data = "\n".join([prev, str(seq), recorded_at, body]).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def canonical_body(event):
    """The body as stored: the event's fields in the order given, compact, UTF-8 unescaped."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def check(rows):
    """rows: (seq, recorded_at, body, hash) in seq order. Returns (head_seq, head_hash)."""
    prev, expected, last_recorded = GENESIS, 1, ""
    for seq, recorded_at, body, stored in rows:
        if seq != expected:
            raise ChainError(expected, f"the next event is seq {seq}: an event is missing or out of order")
        for name, v in (("recorded_at", recorded_at), ("body", body), ("hash", stored)):
            if not isinstance(v, str):
                raise ChainError(seq, f"{name} is not text")
        if not RECORDED_AT.match(recorded_at):
            raise ChainError(seq, f"recorded_at {recorded_at!r} is not UTC with microseconds")
        if recorded_at < last_recorded:
            raise ChainError(seq, f"recorded_at {recorded_at} is before its predecessor's {last_recorded}")
        want = event_hash(prev, seq, recorded_at, body)
        if want != stored:
            raise ChainError(seq, f"stored hash {stored} but computed {want}: the event, its recorded_at or an earlier event was altered")
        prev, last_recorded, expected = stored, recorded_at, expected + 1
    return expected - 1, prev


def rows_from_db(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.text_factory = bytes
    try:
        for seq, recorded_at, body, stored, kinds in con.execute(
            "SELECT seq, recorded_at, body, hash,"
            " typeof(recorded_at) || ',' || typeof(body) || ',' || typeof(hash)"
            " FROM events ORDER BY seq"
        ):
            if kinds != b"text,text,text":
                raise ChainError(seq, f"a column is not stored as text ({kinds.decode()})")

            def text(v, name):
                try:
                    return v.decode("utf-8")
                except UnicodeDecodeError:
                    raise ChainError(seq, f"{name} is not valid UTF-8")

            yield seq, text(recorded_at, "recorded_at"), text(body, "body"), text(stored, "hash")
    finally:
        con.close()


def rows_from_log(stream):
    for n, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise ChainError(0, f"input line {n} is not JSON: {e}")
        seq = obj.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ChainError(0, f"input line {n} has no integer seq")
        event = {k: v for k, v in obj.items() if k not in LOG_FIELDS}
        yield seq, obj.get("recorded_at"), canonical_body(event), obj.get("hash")


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    src = argv[1]
    try:
        if src == "-":
            rows = rows_from_log(sys.stdin)
        else:
            with open(src, "rb") as f:
                magic = f.read(16)
            if magic == b"SQLite format 3\x00":
                rows = rows_from_db(src)
            else:
                rows = rows_from_log(open(src, encoding="utf-8"))
        seq, head = check(rows)
    except ChainError as e:
        print(f"verify_chain: FAILED at seq {e.seq}: {e}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as e:
        print(f"verify_chain: cannot read {src}: {e}", file=sys.stderr)
        return 1
    print(f"{seq}:{head}")
    print(f"verify_chain: ok: {seq} events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
