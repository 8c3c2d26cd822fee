#!/usr/bin/env python3
"""Check that every quote in events/ occurs in the document it cites.

Usage:
    check_quotes.py SHARED_DIR [EVENTS_DIR]   check events/*.jsonl against SHARED_DIR
    check_quotes.py --self-test SHARED_DIR    show that the check fails when one quote
                                              is changed by a word (and passes otherwise)

SHARED_DIR holds `seeds/*.txt` and `research/iofs-chronology.md`. For every event still
standing (not retracted, not replaced by a correction; a correction's replacement is checked
instead; retractions and corrections themselves too), `source.quote` and `date_source.quote`
must be an exact substring of the cited text:

* `document` names a file in `seeds/` or `research/`: the quote is checked against it;
* `url` without `document`: the cited text is the research note's report of that source, so
  the quote is checked against the note, and the URL itself must be written as the note lists
  it (scheme and `www.` aside; the note's `iofs.org.kz/post/N` and `iofs.org.kz/en/post/N`
  stand for the keys `[PN]` it defines).

Before comparing, both sides are normalised in these ways only: runs of whitespace become one
space; typographic quotes become ASCII quotes; en and em dashes become `-`; Markdown emphasis
markers (`*`, `_`) are dropped. Standard library only; exits 1 listing every failure.
"""

import json
import os
import re
import sys
import tempfile

NOTE = os.path.join("research", "iofs-chronology.md")

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2012": "-",
        "\u2212": "-",
        "*": None,
        "_": None,
    }
)


def normalise(text):
    """Whitespace, typographic quotes and dashes, and Markdown emphasis: nothing else."""
    return re.sub(r"\s+", " ", text.translate(_TRANSLATE)).strip()


def bare_url(url):
    u = re.sub(r"^[a-z]+://", "", url.strip())
    u = re.sub(r"^www\.", "", u)
    return u.rstrip("/")


def url_listed(url, note):
    """Whether `url` is written as the research note lists it."""
    u = bare_url(url)
    if u and u in note:
        return True
    m = re.fullmatch(r"iofs\.org\.kz/(en/)?post/(\d+)", u)
    if m:
        pattern = "iofs.org.kz/en/post/" if m.group(1) else "iofs.org.kz/post/N"
        return pattern in note and "[P%s]" % m.group(2) in note
    return False


def load_documents(shared):
    docs = {}
    for sub in ("seeds", "research"):
        d = os.path.join(shared, sub)
        if not os.path.isdir(d):
            raise SystemExit("check_quotes: %s is not a directory" % d)
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), encoding="utf-8") as f:
                docs[name] = f.read()
    if os.path.basename(NOTE) not in docs:
        raise SystemExit("check_quotes: %s is missing" % os.path.join(shared, NOTE))
    return docs


def standing_events(path):
    """(line number, event) for every event of `path` still standing: not retracted, not
    corrected; for a corrected event, the latest correction's replacement instead; and every
    retraction and correction itself (a record event stands: it cannot be retracted)."""
    with open(path, encoding="utf-8") as f:
        lines = [(n, json.loads(l)) for n, l in enumerate(f, 1) if l.strip()]
    retracted = {ev["retracts"] for _, ev in lines if ev.get("type") == "retraction"}
    latest = {}
    for n, ev in lines:
        if ev.get("type") == "correction":
            latest[ev["corrects"]] = n
    out = []
    for n, ev in lines:
        t = ev.get("type")
        if t == "retraction":
            out.append((n, ev))
        elif t == "correction":
            out.append((n, {k: v for k, v in ev.items() if k != "replacement"}))
            if latest.get(ev["corrects"]) == n and ev["corrects"] not in retracted:
                out.append((n, ev["replacement"]))
        elif n not in retracted and n not in latest:
            out.append((n, ev))
    return out


def check_source(where, field, src, docs, problems):
    if not isinstance(src, dict):
        problems.append("%s: `%s` is not an object" % (where, field))
        return
    quote = src.get("quote", "")
    note = docs[os.path.basename(NOTE)]
    if src.get("document"):
        name = src["document"]
        if name not in docs:
            problems.append("%s: `%s.document` %r is not in seeds/ or research/" % (where, field, name))
            return
        text, cited = docs[name], name
    elif src.get("url"):
        if not url_listed(src["url"], note):
            problems.append(
                "%s: `%s.url` %r is not written as the research note lists it" % (where, field, src["url"])
            )
        text, cited = note, "the research note (for %s)" % src["url"]
    else:
        problems.append("%s: `%s` cites no document or url" % (where, field))
        return
    if not normalise(quote) or normalise(quote) not in normalise(text):
        problems.append("%s: `%s.quote` is not in %s: %r" % (where, field, cited, quote))


def check(shared, events_dir):
    docs = load_documents(shared)
    problems = []
    checked = 0
    files = sorted(f for f in os.listdir(events_dir) if f.endswith(".jsonl"))
    for name in files:
        for n, ev in standing_events(os.path.join(events_dir, name)):
            where = "%s:%d" % (name, n)
            for field in ("source", "date_source"):
                if field in ev:
                    check_source(where, field, ev[field], docs, problems)
                    checked += 1
    return checked, problems


def self_test(shared, events_dir):
    """The check passes on the real events and fails when one quote loses one word."""
    checked, problems = check(shared, events_dir)
    if problems:
        print("self-test: the real events already fail:\n  " + "\n  ".join(problems))
        return 1
    failures = 0
    for name in sorted(f for f in os.listdir(events_dir) if f.endswith(".jsonl")):
        with open(os.path.join(events_dir, name), encoding="utf-8") as f:
            lines = f.read().splitlines()
        for field in ("source", "date_source"):
            # Change one word of the first standing event's quote with several words.
            for i, line in enumerate(lines):
                ev = json.loads(line)
                q = ev.get(field, {}).get("quote", "")
                words = q.split(" ")
                if ev.get("type") in ("retraction", "correction") or len(words) < 3:
                    continue
                words[1] = "not" if words[1] != "not" else "never"
                ev[field]["quote"] = " ".join(words)
                changed = lines[:i] + [json.dumps(ev, ensure_ascii=False)] + lines[i + 1 :]
                with tempfile.TemporaryDirectory() as tmp:
                    with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                        f.write("\n".join(changed) + "\n")
                    _, found = check(shared, tmp)
                want = "%s:%d: `%s.quote`" % (name, i + 1, field)
                if any(p.startswith(want) for p in found):
                    print("self-test: a one-word change to %s is caught" % want)
                else:
                    print("self-test: a one-word change to %s was NOT caught: %r" % (want, found))
                    failures += 1
                break
    # A retracted event's quote is no longer checked; a correction's replacement is.
    with open(os.path.join(events_dir, "history.jsonl"), encoding="utf-8") as f:
        real = f.read().splitlines()
    bad = json.loads(real[0])
    bad["source"]["quote"] = "a sentence no document contains"
    good_source = json.loads(real[0])["source"]
    retract = {"type": "retraction", "retracts": len(real) + 1, "reason": "self-test", "source": good_source}
    correct = {"type": "correction", "corrects": 1, "reason": "self-test", "replacement": bad, "source": good_source}
    for extra, should_fail, what in (
        ([bad], True, "an added event with a wrong quote"),
        ([bad, retract], False, "the same event, retracted"),
        ([correct], True, "a correction whose replacement has a wrong quote"),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "history.jsonl"), "w", encoding="utf-8") as f:
                f.write("\n".join(real + [json.dumps(e, ensure_ascii=False) for e in extra]) + "\n")
            _, found = check(shared, tmp)
        if bool(found) == should_fail:
            print("self-test: %s %s" % (what, "is caught" if should_fail else "is not checked"))
        else:
            print("self-test: %s was judged wrongly: %r" % (what, found))
            failures += 1
    # A url more precise than the note lists is caught too.
    probe = {"type": "claim", "source": {"url": "https://ifpa-iofs.org/our-history/extra", "quote": "2013"}}
    p = []
    check_source("probe", "source", probe["source"], load_documents(shared), p)
    if p:
        print("self-test: a url the note does not list is caught")
    else:
        print("self-test: a url the note does not list was NOT caught")
        failures += 1
    print("self-test: %d quotes pass on the real events" % checked)
    return 1 if failures else 0


def main(argv):
    args = argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    if args and args[0] == "--self-test":
        args = args[1:]
        mode = self_test
    else:
        mode = None
    if not args or len(args) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    shared = args[0]
    events_dir = args[1] if len(args) > 1 else os.path.join(here, "..", "events")
    if mode:
        return mode(shared, events_dir)
    checked, problems = check(shared, events_dir)
    if problems:
        print("check_quotes: %d of %d quotes fail:" % (len(problems), checked))
        for p in problems:
            print("  " + p)
        return 1
    print("check_quotes: %d quotes in events/ occur in the documents they cite" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
