#!/usr/bin/env python3
"""Issue 25 item 4: a memoized hit's latency through a running `npm start`, while its background work runs.

Against a stack already started (`npm start`, any SIM_ENTITIES) and ready, for --seconds it alternates, --gap-ms apart,
the same by-id read of one Shot (4 fields) through the unmodified shotgun_api3 client (`find_one`) and as a raw
keep-alive HTTP POST of the very body that client sent, from the same Python process, and prints p50/p90/p99 of each,
the client's p50 against the raw one, and each p99 against its own p50. Every reply must be a memoized hit
(`x-fpt-cache: hit` on the raw replies); a reply that is not is counted and reported.

    python3 bench/hit-latency.py --python-api /tmp/python-api [--seconds 180] [--gap-ms 10] [--json FILE]

PORT as `npm start` reads it (default 8010). Exit status 1 when a raw reply was not a hit.
"""
import argparse
import http.client
import json
import os
import sys
import time
import urllib.request

SCRIPT, KEY = "fpt-cache", "fpt-cache-local-key"  # local/sim/credentials.ts DEFAULT_SCRIPT
FIELDS = ["code", "sg_status_list", "description", "project"]


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python-api", required=True)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--gap-ms", type=float, default=10)
    ap.add_argument("--json")
    a = ap.parse_args()
    sys.path.insert(0, a.python_api)
    import shotgun_api3

    port = int(os.environ.get("PORT", "8010"))
    base = "http://127.0.0.1:%d" % port
    status = json.load(urllib.request.urlopen(base + "/status"))
    if not status.get("ready"):
        sys.exit("the stack at %s is not ready yet (GET /status)" % base)
    sg = shotgun_api3.Shotgun(base, script_name=SCRIPT, api_key=KEY)
    shot = sg.find_one("Shot", [], ["id"], order=[{"field_name": "id", "direction": "asc"}])
    sent = {}
    real = sg._http_request

    def capture(verb, path, body, headers):
        sent.update(path=path, body=body, headers=headers)
        return real(verb, path, body, headers)

    sg._http_request = capture
    sg.find_one("Shot", [["id", "is", shot["id"]]], FIELDS)
    sg._http_request = real
    raw = http.client.HTTPConnection("127.0.0.1", port)
    headers = {k: v for k, v in sent["headers"].items() if k.lower() != "content-length"}

    def post():
        raw.request("POST", sent["path"], body=sent["body"], headers=headers)
        r = raw.getresponse()
        r.read()
        return r.getheader("x-fpt-cache")

    for _ in range(50):  # warm both to memoized hits
        sg.find_one("Shot", [["id", "is", shot["id"]]], FIELDS)
        post()
    client_ms, raw_ms, not_hit = [], [], 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        sg.find_one("Shot", [["id", "is", shot["id"]]], FIELDS)
        client_ms.append((time.perf_counter() - t) * 1000)
        time.sleep(a.gap_ms / 1000)
        t = time.perf_counter()
        if post() != "hit":
            not_hit += 1
        raw_ms.append((time.perf_counter() - t) * 1000)
        time.sleep(a.gap_ms / 1000)
    out = {}
    for name, xs in (("shotgun_api3 find_one", client_ms), ("raw HTTP POST", raw_ms)):
        p50, p90, p99 = pct(xs, 50), pct(xs, 90), pct(xs, 99)
        out[name] = {"calls": len(xs), "p50": p50, "p90": p90, "p99": p99, "p99_over_p50": p99 / p50}
        print("| %s | %d | %.2f | %.2f | %.2f | %.2fx |" % (name, len(xs), p50, p90, p99, p99 / p50))
    out["client_p50_over_raw_p50"] = out["shotgun_api3 find_one"]["p50"] / out["raw HTTP POST"]["p50"]
    out["raw_not_hit"] = not_hit
    print("client p50 / raw p50: %.2fx; raw replies not a hit: %d" % (out["client_p50_over_raw_p50"], not_hit))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    sys.exit(1 if not_hit else 0)


if __name__ == "__main__":
    main()
