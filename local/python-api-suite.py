#!/usr/bin/env python3
"""Runs Autodesk's live tests (shotgun_api3's test_api.py, test_client.py) against `npm start`, straight and through the cache.

The python-api checkout is not part of this repository (CI cannot fetch it): pass its path with --python-api or
SG_PYTHON_API. The checkout is copied to a temporary directory (the tests write next to themselves), its tests read
their settings from SG_* environment variables (tests/base.py), and each target runs in its own process.

    python3 local/python-api-suite.py --python-api /tmp/python-api \
        --site http://127.0.0.1:8020 --cache http://127.0.0.1:8010 [--write-doc docs/real-client.md] [-k PATTERN]

Exit status: the number of tests that pass straight and fail through the cache.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

MODULES = ["tests.test_api", "tests.test_client"]
BEGIN, END = "<!-- python-api-suite:begin -->", "<!-- python-api-suite:end -->"


def settings(url, script, key):
    return {
        "SG_SERVER_URL": url, "SG_SCRIPT_NAME": script, "SG_API_KEY": key,
        "SG_HUMAN_LOGIN": "sgunittesthuman", "SG_HUMAN_NAME": "Sg unittest human", "SG_HUMAN_PASSWORD": "human password",
        "SG_PROJECT_NAME": "PTR unittest project", "SG_ASSET_CODE": "Sg unittest asset", "SG_VERSION_CODE": "Sg unittest version",
        "SG_SHOT_CODE": "Sg unittest shot", "SG_TASK_CONTENT": "Sg unittest task", "SG_PLAYLIST_CODE": "Sg unittest playlist",
    }


class Collect(unittest.TestResult):
    """Every test's outcome and the last line of its failure."""

    def __init__(self):
        super().__init__()
        self.rows = {}

    def _put(self, test, outcome, detail=""):
        tid = test.id() if hasattr(test, "id") else str(test)
        line = [l for l in detail.strip().splitlines() if l.strip()][-1:] if detail else []
        self.rows[tid] = {"outcome": outcome, "detail": line[0][:200] if line else ""}

    def addSuccess(self, test):
        self._put(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._put(test, "fail", self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        # setUpClass errors arrive as one _ErrorHolder: name every test of that class.
        self._put(test, "error", self.errors[-1][1])

    def addSkip(self, test, reason):
        self._put(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        self._put(test, "pass")

    def addUnexpectedSuccess(self, test):
        self._put(test, "fail", "unexpected success")


def run_here(checkout, pattern, out):
    """The child: runs the modules in this process and writes {test id: outcome} as JSON."""
    sys.path.insert(0, checkout)
    os.chdir(checkout)
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ["*%s*" % p for p in pattern]
    suite = unittest.TestSuite(loader.loadTestsFromName(m) for m in MODULES)
    names = [t.id() for t in iter_tests(suite)]
    result = Collect()
    suite.run(result)
    rows = {}
    for name in names:
        if name in result.rows:
            rows[name] = result.rows[name]
            continue
        cls = name.rsplit(".", 1)[0]
        holder = [v for k, v in result.rows.items() if k.startswith("setUpClass (%s)" % cls)]
        rows[name] = dict(holder[0], outcome="setUpClass") if holder else {"outcome": "not run", "detail": ""}
    with open(out, "w") as f:
        json.dump(rows, f, indent=1, sort_keys=True)


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def run_target(args, url, label):
    work = tempfile.mkdtemp(prefix="python-api-")
    try:
        checkout = os.path.join(work, "python-api")
        shutil.copytree(args.python_api, checkout, ignore=shutil.ignore_patterns(".git", "__pycache__", "config"))
        out = os.path.join(work, "result.json")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **settings(url, args.script, args.key))
        cmd = [sys.executable, os.path.abspath(__file__), "--child", checkout, "--out", out]
        for p in args.k or []:
            cmd += ["-k", p]
        print("running %s against %s ..." % (label, url), flush=True)
        subprocess.run(cmd, env=env, cwd=checkout, check=False)
        with open(out) as f:
            return json.load(f)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def short(name):
    return name.replace("tests.test_api.", "test_api.").replace("tests.test_client.", "test_client.")


def table(straight, cached, notes):
    names = sorted(set(straight) | set(cached))
    count = lambda rows: sum(1 for r in rows.values() if r["outcome"] == "pass")
    skips = lambda rows: sum(1 for r in rows.values() if r["outcome"] == "skip")
    lines = [
        "| | tests | pass | skip | not passing |",
        "|---|---|---|---|---|",
        "| straight to the simulated site | %d | %d | %d | %d |" % (len(straight), count(straight), skips(straight), len(straight) - count(straight) - skips(straight)),
        "| through the cache | %d | %d | %d | %d |" % (len(cached), count(cached), skips(cached), len(cached) - count(cached) - skips(cached)),
        "",
        "| test | straight | through the cache | note |",
        "|---|---|---|---|",
    ]
    for n in names:
        a = straight.get(n, {"outcome": "-", "detail": ""})
        b = cached.get(n, {"outcome": "-", "detail": ""})
        note = notes.get(short(n)) or ("" if a["outcome"] == b["outcome"] == "pass" else (a["detail"] or b["detail"]))
        lines.append("| `%s` | %s | %s | %s |" % (short(n), a["outcome"], b["outcome"], note.replace("|", "\\|")))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python-api", default=os.environ.get("SG_PYTHON_API"))
    ap.add_argument("--site", default=os.environ.get("SIM_URL", "http://127.0.0.1:8020"))
    ap.add_argument("--cache", default=os.environ.get("CACHE_URL", "http://127.0.0.1:8010"))
    ap.add_argument("--script", default="fpt-cache")
    ap.add_argument("--key", default="fpt-cache-local-key")
    ap.add_argument("--write-doc", help="replace the table between the markers in this markdown file")
    ap.add_argument("--notes", help="JSON {short test id: why} for tests that need what only a hosted site has")
    ap.add_argument("--only", choices=["site", "cache"], help="run one target only")
    ap.add_argument("-k", action="append", help="only tests whose id contains this (repeatable)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return run_here(args.child, args.k, args.out)
    if not args.python_api or not os.path.isdir(os.path.join(args.python_api, "tests")):
        ap.error("give the python-api checkout with --python-api or SG_PYTHON_API")
    straight = run_target(args, args.site, "straight") if args.only != "cache" else {}
    cached = run_target(args, args.cache, "through the cache") if args.only != "site" else {}
    notes = json.load(open(args.notes)) if args.notes else {}
    text = table(straight, cached, notes)
    print(text)
    if args.write_doc:
        with open(args.write_doc) as f:
            doc = f.read()
        if BEGIN not in doc:
            raise SystemExit("%s has no %s ... %s markers" % (args.write_doc, BEGIN, END))
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        with open(args.write_doc, "w") as f:
            f.write(head + BEGIN + "\n" + text + "\n" + END + tail)
    regressions = [n for n, r in straight.items() if r["outcome"] == "pass" and cached.get(n, {}).get("outcome") != "pass"]
    for n in regressions:
        print("passes straight, not through the cache:", short(n), cached.get(n, {}).get("detail", ""))
    sys.exit(len(regressions) if straight and cached else 0)


if __name__ == "__main__":
    main()
