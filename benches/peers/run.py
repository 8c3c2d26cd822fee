#!/usr/bin/env python3
"""The ledger, its floors and its peers on the same synthetic events, in one run.

Run through `bash benches/peers/run.sh` (which builds and installs everything first); see
benches/peers/README.md. Standard library only. Prints a markdown table (ready for the README)
and writes the raw numbers to target/peers/results.json (and the table to target/peers/table.md).

Settings (environment):
  IOFS_PEERS_SIZES         ledger and floor sizes, comma-separated (default 200000,1000000)
  IOFS_PEERS_PYTHON_SIZES  sizes at which Python eventsourcing runs (default 200000)
  IOFS_PEERS_CQRS_SIZES    sizes at which cqrs-es + sqlite-es runs (default 20000: its append
                           loads the aggregate for every command)
  IOFS_PEERS_PEERS         which peers: python,cqrs (default), or none
  IOFS_PEERS_RUNS          runs of each timed operation, median taken (default 3)
  IOFS_PEERS_STATE_RUNS    runs of the `state --as-of` CLI call (default 31)
  IOFS_PEERS_QUICK=1       2,000 events everywhere, one run each: a smoke test
"""

import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "target" / "peers"
BIN = ROOT / "target" / "release" / "iofs-ledger"
SYNTH = ROOT / "target" / "release" / "examples" / "synth"
PY = OUT / "venv" / "bin" / "python"
PY_PEER = ROOT / "benches" / "peers" / "python" / "peer.py"
CQRS = OUT / "cqrs" / "release" / "iofs-peer-cqrs"
LAST_DAY = "2025-12-31"

# The goals (ratios in one run).
GOAL_APPEND = 1.5  # bulk append ≤ 1.5 × the .import floor
GOAL_VERIFY = 3.0  # verify ≤ 3 × read-and-hash
GOAL_REPLAY_CQRS = 8.0  # replay ≥ 8 × faster than cqrs-es
GOAL_REPLAY_PY = 20.0  # replay ≥ 20 × faster than Python eventsourcing
GOAL_STATE_MS = 10.0  # state as a CLI call ≤ 10 ms


class Failed(Exception):
    pass


def sizes(var, default):
    text = os.environ.get(var, default).replace("_", "")
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise Failed(f"{var}: `{part}` is not a number of events")
        out.append(int(part))
    return out


def run(args, *, stdin=None, stdout=subprocess.DEVNULL, shell=False):
    """Runs a command; returns (seconds of wall time, stdout text or None). Fails loudly."""
    start = time.perf_counter()
    p = subprocess.run(args, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, shell=shell,
                       executable="/bin/bash" if shell else None)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        shown = args if shell else " ".join(str(a) for a in args)
        raise Failed(f"`{shown}` exited {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    out = p.stdout.decode() if stdout == subprocess.PIPE else None
    return seconds, out


def remove_db(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def median(xs):
    return statistics.median(xs) if xs else None


def events_file(n):
    data = OUT / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"synth-{n}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            run([SYNTH, str(n)], stdout=f)
        tmp.rename(path)
    return path


def ours_append(db, events):
    remove_db(db)
    run([BIN, "--db", db, "init", "--empty"])
    t, _ = run([BIN, "--db", db, "append", events])
    return t


def first_query(db):
    t, _ = run([BIN, "--db", db, "state", "--as-of", LAST_DAY, "--json"], stdout=subprocess.PIPE)
    return t


def floor_import(db, events):
    """`sqlite3 .import` of the lines into a one-column table: ascii mode, columns split on
    0x1F (never in JSON text: control characters are escaped), rows on newlines."""
    remove_db(db)
    run(["sqlite3", db, "CREATE TABLE lines (line TEXT)"])
    t, _ = run(["sqlite3", db, ".mode ascii", ".separator \"\\037\" \"\\n\"",
                f".import '{events}' lines"])
    return t


def floor_hash(db):
    t, _ = run(f"set -o pipefail; sqlite3 '{db}' 'select seq, recorded_at, body from events' "
               "| sha256sum", shell=True, stdout=subprocess.PIPE)
    return t


def count_rows(db, table):
    _, out = run(["sqlite3", db, f"SELECT COUNT(*) FROM {table}"], stdout=subprocess.PIPE)
    return int(out.strip())


def members_of(db, known_at=None):
    args = [BIN, "--db", db, "state", "--as-of", LAST_DAY, "--json"]
    if known_at:
        args += ["--known-at", known_at]
    _, out = run(args, stdout=subprocess.PIPE)
    state = json.loads(out)
    members = state.get("members")
    if isinstance(members, dict):
        return members.get("count")
    return None


def peer(cmd):
    _, out = run(cmd, stdout=subprocess.PIPE)
    return json.loads(out.strip().splitlines()[-1])


def measure(n, do_python, do_cqrs, runs, state_runs, log):
    events = events_file(n)
    work = OUT / "work"
    work.mkdir(parents=True, exist_ok=True)
    ours_db = work / f"ours-{n}.db"
    import_db = work / f"import-{n}.db"
    r = {"events": n, "file_bytes": events.stat().st_size,
         "ours": {"append": [], "first_query": [], "verify": [], "replay": [], "state_cli": []},
         "floor": {"import": [], "read_and_hash": []}}
    # Interleaved: each run appends (ours, then the floor), then verifies and hashes.
    for i in range(runs):
        log(f"  {n}: run {i + 1}/{runs}: append")
        r["ours"]["append"].append(ours_append(ours_db, events))
        r["ours"]["first_query"].append(first_query(ours_db))
        r["floor"]["import"].append(floor_import(import_db, events))
        log(f"  {n}: run {i + 1}/{runs}: verify")
        r["ours"]["verify"].append(run([BIN, "--db", ours_db, "verify"])[0])
        r["floor"]["read_and_hash"].append(floor_hash(ours_db))
    imported = count_rows(import_db, "lines")
    stored = count_rows(ours_db, "events")
    if imported != n or stored != n:
        raise Failed(f"{n} events: the floor imported {imported} rows, the ledger stored {stored}")
    remove_db(import_db)
    _, head = run([BIN, "--db", ours_db, "head", "--json"], stdout=subprocess.PIPE)
    known_at = json.loads(head).get("recorded_at")
    if not known_at:
        raise Failed(f"`head --json` gave no recorded_at: {head}")
    r["ours"]["members"] = members_of(ours_db)
    if members_of(ours_db, known_at) != r["ours"]["members"]:
        raise Failed("the full replay and the read models disagree on the member count")
    log(f"  {n}: replay and state")
    for _ in range(runs):
        r["ours"]["replay"].append(run([BIN, "--db", ours_db, "state", "--as-of", LAST_DAY,
                                        "--known-at", known_at, "--json"],
                                       stdout=subprocess.PIPE)[0])
    for _ in range(state_runs):
        r["ours"]["state_cli"].append(run([BIN, "--db", ours_db, "state", "--as-of", LAST_DAY,
                                           "--json"], stdout=subprocess.PIPE)[0])
    if do_python:
        py_db = work / f"python-{n}.db"
        r["python"] = {"append": [], "replay": []}
        for i in range(runs):
            log(f"  {n}: Python eventsourcing, run {i + 1}/{runs}")
            remove_db(py_db)
            a = peer([PY, PY_PEER, "append", py_db, events])
            b = peer([PY, PY_PEER, "replay", py_db])
            if a["events"] != n or b["events"] != n:
                raise Failed(f"Python eventsourcing stored {a['events']}, replayed {b['events']}")
            r["python"]["append"].append(a["seconds"])
            r["python"]["replay"].append(b["seconds"])
            r["python"]["members"] = b["members"]
            r["python"]["batch"] = a.get("batch")
        remove_db(py_db)
    if do_cqrs:
        cq_db = work / f"cqrs-{n}.db"
        r["cqrs"] = {"append": [], "replay": []}
        for i in range(runs):
            log(f"  {n}: cqrs-es, run {i + 1}/{runs}")
            remove_db(cq_db)
            a = peer([CQRS, "append", cq_db, events])
            b = peer([CQRS, "replay", cq_db])
            if a["events"] != n or b["events"] != n:
                raise Failed(f"cqrs-es stored {a['events']}, replayed {b['events']}")
            r["cqrs"]["append"].append(a["seconds"])
            r["cqrs"]["replay"].append(b["seconds"])
            r["cqrs"]["members"] = b["members"]
            r["cqrs"]["snapshot"] = a.get("snapshot")
        remove_db(cq_db)
    remove_db(ours_db)
    for group in ("ours", "floor", "python", "cqrs"):
        if group in r:
            r[group]["median"] = {k: median(v) for k, v in r[group].items()
                                  if isinstance(v, list)}
    return r


def fmt_s(s):
    if s is None:
        return "—"
    if s < 0.1:
        return f"{s * 1000:.1f} ms"
    if s < 10:
        return f"{s:.2f} s"
    return f"{s:.1f} s"


def versus(ours, theirs, name):
    """The peer's time and how it compares with ours, the direction spelt out."""
    if theirs is None or ours is None:
        return None, ""
    if theirs >= ours:
        ratio = theirs / ours
        return ratio, f"{name} {fmt_s(theirs)}: {ratio:.1f}× slower than ours"
    ratio = theirs / ours
    return ratio, f"{name} {fmt_s(theirs)}: {ours / theirs:.1f}× faster than ours"


def verdict(ok):
    return "**met**" if ok else "**missed**"


def table(results, meta):
    lines = []
    goals = []
    for r in results:
        n = r["events"]
        o, f = r["ours"]["median"], r["floor"]["median"]
        py = r.get("python", {}).get("median", {})
        cq = r.get("cqrs", {}).get("median", {})
        lines.append(f"**{n:,} events** ({r['file_bytes'] / 1e6:.0f} MB of JSON Lines)")
        lines.append("")
        lines.append("| work | ours | floor (same run) | ours ÷ floor | peers (same run, same events) |")
        lines.append("|---|---:|---|---:|---|")
        ra = o["append"] / f["import"]
        ok = ra <= GOAL_APPEND
        goals.append(f"bulk append ≤ {GOAL_APPEND}× `.import` at {n:,}: {ra:.2f}× {verdict(ok)}")
        peers = []
        for name, m in (("Python eventsourcing", py), ("cqrs-es", cq)):
            _, text = versus(o["append"], m.get("append"), name)
            if text:
                peers.append(text)
        lines.append(f"| bulk append (`append FILE` into an empty ledger) | {fmt_s(o['append'])} | "
                     f"`sqlite3 .import` into one column: {fmt_s(f['import'])} | {ra:.2f}× | "
                     f"{'; '.join(peers) or '—'} |")
        lines.append(f"| first `state` after the bulk append | {fmt_s(o['first_query'])} | — | — | — |")
        rv = o["verify"] / f["read_and_hash"]
        ok = rv <= GOAL_VERIFY
        goals.append(f"verify ≤ {GOAL_VERIFY}× read-and-hash at {n:,}: {rv:.2f}× {verdict(ok)}")
        lines.append(f"| `verify` | {fmt_s(o['verify'])} | `sqlite3` seq, recorded_at, body \\| "
                     f"`sha256sum`: {fmt_s(f['read_and_hash'])} | {rv:.2f}× | — |")
        peers = []
        for name, m, goal in (("Python eventsourcing", py, GOAL_REPLAY_PY),
                              ("cqrs-es", cq, GOAL_REPLAY_CQRS)):
            ratio, text = versus(o["replay"], m.get("replay"), name)
            if text:
                peers.append(text)
                goals.append(f"replay ≥ {goal:g}× faster than {name} at {n:,}: "
                             f"{ratio:.1f}× {verdict(ratio >= goal)}")
        lines.append(f"| full replay (`state --known-at` the last record) | {fmt_s(o['replay'])} | — "
                     f"| — | {'; '.join(peers) or '—'} |")
        st = o["state_cli"] * 1000
        goals.append(f"`state --as-of` CLI call ≤ {GOAL_STATE_MS:g} ms at {n:,}: "
                     f"{st:.1f} ms {verdict(st <= GOAL_STATE_MS)}")
        lines.append(f"| `state --as-of` as a CLI call (median of {len(r['ours']['state_cli'])}) | "
                     f"{fmt_s(o['state_cli'])} | — | — | — |")
        lines.append("")
    lines.append("Goals (issue 21), from this run:")
    lines.append("")
    lines.extend(f"- {g}" for g in goals)
    lines.append("")
    lines.append(f"Medians of {meta['runs']} run(s) each, {meta['when']}, {meta['machine']}; "
                 f"ledger {meta['ledger']}, {meta['peers']}. Ours and the floors are timed around "
                 "the whole command; the peers time their own operation inside the process "
                 "(interpreter start and imports excluded). Reproduce: `bash benches/peers/run.sh`.")
    return "\n".join(lines)


def machine():
    cores = os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
        load = f", load {load:.1f} at the start"
    except OSError:
        load = ""
    return f"{cores} cores ({model}){load}" if model else f"{cores} cores{load}"


def versions(peers):
    parts = []
    req = ROOT / "benches" / "peers" / "python" / "requirements.txt"
    lock = ROOT / "benches" / "peers" / "cqrs" / "Cargo.lock"
    if "python" in peers and req.exists():
        pins = [l.strip() for l in req.read_text().splitlines() if l.startswith("eventsourcing")]
        parts.append("Python " + sys.version.split()[0] + " " + ", ".join(pins))
    if "cqrs" in peers and lock.exists():
        text = lock.read_text().split("[[package]]")
        found = {}
        for block in text:
            name = version = None
            for line in block.splitlines():
                if line.startswith('name = "'):
                    name = line.split('"')[1]
                elif line.startswith('version = "'):
                    version = line.split('"')[1]
            if name in ("cqrs-es", "sqlite-es", "sqlx"):
                found[name] = version
        parts.append(", ".join(f"{k} {v}" for k, v in sorted(found.items())))
    _, sq = run(["sqlite3", "--version"], stdout=subprocess.PIPE)
    parts.append("sqlite3 " + sq.split()[0])
    return "; ".join(parts)


def main():
    quick = os.environ.get("IOFS_PEERS_QUICK") == "1"
    peers = os.environ.get("IOFS_PEERS_PEERS", "python,cqrs").split(",")
    if quick:
        main_sizes, py_sizes, cq_sizes, runs, state_runs = [2000], [2000], [2000], 1, 5
    else:
        main_sizes = sizes("IOFS_PEERS_SIZES", "200000,1000000")
        py_sizes = sizes("IOFS_PEERS_PYTHON_SIZES", "200000")
        cq_sizes = sizes("IOFS_PEERS_CQRS_SIZES", "20000")
        runs = int(os.environ.get("IOFS_PEERS_RUNS", "3"))
        state_runs = int(os.environ.get("IOFS_PEERS_STATE_RUNS", "31"))
    if "python" not in peers:
        py_sizes = []
    if "cqrs" not in peers:
        cq_sizes = []
    for path, what in ((BIN, "the release binary"), (SYNTH, "the synth example")):
        if not path.exists():
            raise Failed(f"{what} is missing at {path}: run `bash benches/peers/run.sh`")
    if py_sizes and not PY.exists():
        raise Failed(f"no Python venv at {PY}: run `bash benches/peers/setup.sh`")
    if cq_sizes and not CQRS.exists():
        raise Failed(f"no cqrs peer at {CQRS}: run `bash benches/peers/setup.sh`")
    all_sizes = sorted(set(main_sizes) | set(py_sizes) | set(cq_sizes))
    _, ledger_version = run([BIN, "--version"], stdout=subprocess.PIPE)
    meta = {
        "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "ledger": ledger_version.strip().splitlines()[0],
        "peers": versions(peers),
        "runs": runs,
        "quick": quick,
    }

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    log(f"peers: sizes {all_sizes} (Python at {py_sizes}, cqrs-es at {cq_sizes}), {runs} run(s)")
    results, failures = [], []
    OUT.mkdir(parents=True, exist_ok=True)
    for n in all_sizes:
        log(f"peers: {n} events")
        try:
            results.append(measure(n, n in py_sizes, n in cq_sizes, runs, state_runs, log))
        except Failed as e:
            # One size failing (a full disk at 1M, say) keeps the sizes already measured.
            log(f"peers: {n} events failed: {e}")
            failures.append({"events": n, "error": str(e)})
        finally:
            shutil.rmtree(OUT / "work", ignore_errors=True)
        meta["failures"] = failures
        (OUT / "results.json").write_text(
            json.dumps({"meta": meta, "results": results}, indent=2))
    if not results:
        raise Failed("no size could be measured")
    text = table(results, meta)
    for f in failures:
        text += f"\n\nNot measured: {f['events']:,} events ({f['error'][:300]})."
    (OUT / "table.md").write_text(text + "\n")
    print(text)
    log(f"peers: raw numbers in {OUT / 'results.json'}, the table in {OUT / 'table.md'}")
    if failures:
        raise Failed(f"{len(failures)} size(s) failed: see above")


def table_only(path):
    """`run.py --table FILE`: the table of a results file written by an earlier run."""
    data = json.loads(Path(path).read_text())
    text = table(data["results"], data["meta"])
    for f in data["meta"].get("failures", []):
        text += f"\n\nNot measured: {f['events']:,} events ({f['error'][:300]})."
    print(text)


if __name__ == "__main__":
    try:
        if len(sys.argv) == 3 and sys.argv[1] == "--table":
            table_only(sys.argv[2])
        elif len(sys.argv) > 1:
            raise Failed("usage: run.py [--table RESULTS.json] (settings: see the docstring)")
        else:
            main()
    except Failed as e:
        print(f"peers: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
