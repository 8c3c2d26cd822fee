"""The Python `eventsourcing` peer of iofs-ledger's performance table (benches/peers/README.md).

    peer.py append DB FILE [BATCH]   every JSON line of FILE becomes one domain event
                                     (`Ledger.Recorded`) on a single Ledger aggregate, saved
                                     through an Application with eventsourcing's SQLite
                                     persistence, BATCH events per save (default 1000): what a
                                     bulk import with the library would do (one save per event
                                     is one transaction per event, far slower).
    peer.py replay DB                 the repository reconstructs the aggregate from all its
                                     stored events (no snapshots) and the member count is read.

Each prints one JSON line {"op": ..., "events": N, "members": M, "seconds": S}; the time is
measured around the operation (interpreter start, imports and opening the database excluded).
"""

import json
import sys
import time
import uuid

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid.UUID("6f1c6a52-4b43-4c66-9a8e-6b4bb1d2c0de")


class Ledger(Aggregate):
    """The ledger as one aggregate: the member set (signatures add, withdrawals remove)."""

    @staticmethod
    def create_id():
        return uuid.uuid5(NAMESPACE, "iofs")

    def __init__(self):
        self.members = set()
        self.events = 0

    def record(self, ev):
        kind = ev.get("type")
        party = ev.get("party")
        if kind == "statute_signed" and party in self.members:
            raise ValueError(f"{party} is already a member")
        if kind == "membership_withdrawn" and party not in self.members:
            raise ValueError(f"{party} is not a member")
        self._recorded(kind=kind, body=ev)

    @event("Recorded")
    def _recorded(self, kind, body):
        party = body.get("party")
        if kind == "statute_signed":
            self.members.add(party)
        elif kind == "membership_withdrawn":
            self.members.discard(party)
        self.events += 1


class Ledgers(Application):
    pass


def app_for(db):
    return Ledgers(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db)})


def append(db, path, batch):
    app = app_for(db)
    start = time.perf_counter()
    ledger = Ledger()
    n = 0
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                ledger.record(json.loads(line))
            except ValueError as e:
                sys.exit(f"peer.py: {path}:{number}: {e}")
            n += 1
            if n % batch == 0:
                app.save(ledger)
    app.save(ledger)
    seconds = time.perf_counter() - start
    print(json.dumps({"op": "append", "events": n, "batch": batch, "seconds": seconds}))


def replay(db):
    app = app_for(db)
    start = time.perf_counter()
    ledger = app.repository.get(Ledger.create_id())
    seconds = time.perf_counter() - start
    print(json.dumps({"op": "replay", "events": ledger.events,
                      "members": len(ledger.members), "seconds": seconds}))


def main(argv):
    if len(argv) in (3, 4) and argv[0] == "append":
        batch = int(argv[3]) if len(argv) == 4 else 1000
        if batch < 1:
            sys.exit("peer.py: BATCH must be a positive number")
        append(argv[1], argv[2], batch)
    elif len(argv) == 2 and argv[0] == "replay":
        replay(argv[1])
    else:
        sys.exit("usage: peer.py append DB FILE [BATCH] | peer.py replay DB")


if __name__ == "__main__":
    main(sys.argv[1:])
