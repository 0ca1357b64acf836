#!/usr/bin/env python3
"""Issue 24's real-client drill: a site outage, then the cache stopped and killed, with the unmodified shotgun_api3 client.

Starts the simulated site on its own (`npm run sim`, so it outlives the cache) and `npm start` against it
(SHOTGUN_URL), each in its own process group, then:

  outage   warms ~40 reads (by id, by filters, through links) as three callers (the cache's script, a human user,
           another script) until they are hits; takes the site down (POST /__sim/chaos {"down": "maintenance"});
           every --round-s asks every read again from every caller and counts served (x-fpt-cache-stale:
           site-unavailable, equal to the site's answer before the outage), passed / 503, HTTP 500, calls over 30 s;
           a new Shotgun(...) connects at the start and at the end; a write gets the site's 503. Then the site comes
           back, 20 writes go through the cache, and it measures how long until the last is a hit and whether every
           read equals the site's.
  restart  for each of --stops clean stops (SIGTERM to the stack's process group) and --kills (SIGKILL of it): reads
           hot, 60 changes (updates, relinks, retirements, revivals) made straight on the site while the stack goes
           down, `npm start` again on the same DATA_DIR; from the first reply on, every answer is compared with the
           site's for --watch-s seconds; how long until every read is a hit again.

Nothing is compared with a stored answer: every check asks the site (a client pointed straight at it).

    python3 local/outage-drill.py --python-api /tmp/python-api [--outage-s 360] [--stops 2] [--kills 2] [--json FILE]

Ports and data as `npm start` reads them: PORT, SIM_PORT, DYNAMODB_PORT, SQS_PORT, DATA_DIR (the site's snapshot goes
to DATA_DIR.site). Exit status: the number of failed checks.
"""
import argparse
import datetime
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT, KEY = "fpt-cache", "fpt-cache-local-key"  # local/sim/credentials.ts DEFAULT_SCRIPT
OTHER_SCRIPT, OTHER_KEY = "no-events", "no-events-key"  # NO_EVENTS_SCRIPT
HUMAN, PASSWORD = "artist1", "password"  # SEEDED_LOGINS.artist, DEFAULT_USER_PASSWORD
SLOW_S = 30.0  # API Gateway's limit: nothing may take longer

failures = []


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def check(name, ok, seen=""):
    log(("ok   " if ok else "FAIL ") + name + ("" if ok else "   " + str(seen)[:400]))
    if not ok:
        failures.append(name)
    return ok


# --- the client, recorded -------------------------------------------------------------------------------------------
sg_mod = None


def load_client(path):
    global sg_mod
    sys.path.insert(0, path)
    import shotgun_api3

    sg_mod = shotgun_api3
    original = shotgun_api3.Shotgun._http_request

    def recording(self, verb, path, body, headers):
        t0 = time.time()
        status, h, content = original(self, verb, path, body, headers)
        calls = getattr(self, "_drill_calls", None)
        if calls is not None:
            try:
                method = json.loads(body)["method_name"]
            except Exception:
                method = None
            calls.append({"method": method, "status": status[0], "headers": h, "body": content, "s": time.time() - t0})
        return status, h, content

    shotgun_api3.Shotgun._http_request = recording


def client(url, who, connect=True, timeout=60):
    kind, name, secret = who
    kw = {"script_name": name, "api_key": secret} if kind == "script" else {"login": name, "password": secret}
    sg = sg_mod.Shotgun(url, connect=False, **kw)
    sg.config.timeout_secs = timeout  # set before the first call (the connection is made then)
    sg.config.max_rpc_attempts = 1
    if connect:
        sg.server_caps  # what connect=True does in the constructor: info first
    return sg


def call(sg, fn):
    """Runs fn(sg); returns what was seen: outcome, every HTTP reply, the bodies, elapsed seconds."""
    sg._drill_calls = []
    t0 = time.time()
    err = None
    try:
        fn(sg)
    except Exception as e:  # ProtocolError (an HTTP error), Fault, connection errors, timeouts
        err = e
    elapsed = time.time() - t0
    calls, sg._drill_calls = sg._drill_calls, None
    # A client that has not connected yet calls `info` first: that reply is judged by the connect checks, not here.
    info = [c for c in calls if c["method"] == "info"]
    calls = [c for c in calls if c["method"] != "info"] or info
    statuses = [c["status"] for c in calls]
    marks = [c["headers"].get("x-fpt-cache") for c in calls]
    stale = [c["headers"].get("x-fpt-cache-stale") for c in calls]
    if not calls:
        outcome = "no-reply"
    elif any(s == 500 for s in statuses):
        outcome = "http500"
    elif any(s != 200 for s in statuses):
        outcome = "http%d" % [s for s in statuses if s != 200][0]
    elif all(m == "hit" for m in marks):
        outcome = "served-stale" if all(s == "site-unavailable" for s in stale) else "hit"
    elif all(m == "pass" for m in marks):
        outcome = "pass"
    else:
        outcome = "mixed:" + ",".join(str(m) for m in marks)
    bodies = [decode(c["body"]) for c in calls]
    reasons = sorted({str(c["headers"].get("x-fpt-cache-reason")) for c in calls})
    return {"outcome": outcome, "bodies": bodies, "s": elapsed, "error": repr(err)[:200] if err else None, "reasons": reasons,
            "statuses": statuses, "raw": [c["body"] for c in calls]}


def decode(body):
    try:
        return json.loads(body)
    except Exception:
        return body if isinstance(body, str) else body.decode("utf-8", "replace")


# --- the stack ----------------------------------------------------------------------------------------------------
class Stack:
    def __init__(self, args):
        self.args = args
        self.site_proc = None
        self.proc = None
        self.logs = args.logs
        os.makedirs(self.logs, exist_ok=True)
        self.runs = 0

    def env(self, extra):
        e = dict(os.environ)
        e.update({k: str(v) for k, v in extra.items()})
        return e

    def start_site(self, fresh):
        site_dir = self.args.data_dir + ".site"
        if fresh and os.path.isdir(site_dir):
            if set(os.listdir(site_dir)) - {"sim"}:
                raise SystemExit("%s holds more than a simulated site's snapshot: not wiping it" % site_dir)
            subprocess.run(["rm", "-rf", site_dir], check=True)
        out = open(os.path.join(self.logs, "site.log"), "a")
        self.site_proc = subprocess.Popen(["npm", "run", "sim"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                          env=self.env({"SIM_PORT": self.args.sim_port, "DATA_DIR": site_dir}))
        wait_for("the site", lambda: http_json(self.args.site_url + "/__sim/chaos") is not None, 120)

    def start(self, fresh=False):
        self.runs += 1
        out = open(os.path.join(self.logs, "stack.log"), "a")
        out.write("\n===== start %d at %s =====\n" % (self.runs, time.strftime("%H:%M:%S")))
        out.flush()
        cmd = ["npm", "start"] + (["--", "--fresh"] if fresh else [])
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                     env=self.env({"PORT": self.args.port, "DYNAMODB_PORT": self.args.dynamodb_port, "SQS_PORT": self.args.sqs_port,
                                                   "DATA_DIR": self.args.data_dir, "SHOTGUN_URL": self.args.site_url,
                                                   "SHOTGUN_SCRIPT_NAME": SCRIPT, "SHOTGUN_SCRIPT_KEY": KEY}))
        return time.time()

    def signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def wait_down(self, timeout):
        """Waits for the npm process and every port of the stack to be free; returns seconds taken or None."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            gone = self.proc.poll() is not None and not group_alive(self.proc.pid)
            if gone and not any(port_open(p) for p in (self.args.port, self.args.dynamodb_port, self.args.sqs_port)):
                return time.time() - t0
            time.sleep(0.2)
        return None

    def stop_all(self):
        for p in (self.proc, self.site_proc):
            if p and p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(30)
                except Exception:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", int(port))) == 0


def http_json(url, body=None, timeout=10):
    try:
        req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     method="POST" if body is not None else "GET", headers={"content-type": "application/json"})
        return json.load(urllib.request.urlopen(req, timeout=timeout))
    except Exception:
        return None


def wait_for(what, pred, timeout, every=0.5):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return time.time() - t0
        time.sleep(every)
    raise SystemExit("timed out waiting for %s" % what)


def chaos(args, patch):
    r = http_json(args.site_url + "/__sim/chaos", patch)
    if r is None:
        raise SystemExit("chaos %r refused" % patch)
    return r


# --- the reads ----------------------------------------------------------------------------------------------------
def build_reads(site):
    """~40 reads chosen from what the site holds now (ids, links, statuses), as find/find_one calls."""
    project = site.find("Project", [], ["name"], order=[{"field_name": "id", "direction": "asc"}])[0]
    shots = site.find("Shot", [["project", "is", project]], ["code", "sg_sequence"], order=[{"field_name": "id", "direction": "asc"}])
    seqs = site.find("Sequence", [["project", "is", project]], ["code"], order=[{"field_name": "id", "direction": "asc"}])
    assets = site.find("Asset", [["project", "is", project]], ["code"], order=[{"field_name": "id", "direction": "asc"}], limit=5)
    tasks = site.find("Task", [["project", "is", project]], ["content", "sg_status_list"], order=[{"field_name": "id", "direction": "asc"}], limit=40)
    statuses = sorted({t["sg_status_list"] for t in tasks if t["sg_status_list"]})
    asc = [{"field_name": "id", "direction": "asc"}]
    shot_fields = ["code", "description", "sg_cut_in", "sg_status_list", "sg_sequence", "project"]
    reads = []

    def add(label, fn):
        reads.append((label, fn))

    picked = shots[::max(1, len(shots) // 10)][:10]
    for s in picked:
        add("Shot id %d" % s["id"], lambda sg, i=s["id"]: sg.find_one("Shot", [["id", "is", i]], shot_fields))
    for q in seqs[:5]:
        add("Shots of Sequence %d" % q["id"],
            lambda sg, q=q: sg.find("Shot", [["sg_sequence", "is", {"type": "Sequence", "id": q["id"]}]], ["code", "description", "sg_cut_in"], order=asc))
    for s in picked[:6]:
        add("Tasks of Shot %d" % s["id"],
            lambda sg, i=s["id"]: sg.find("Task", [["entity", "is", {"type": "Shot", "id": i}]], ["content", "sg_status_list", "task_assignees", "step"], order=asc))
    for st in statuses[:3]:
        add("Tasks status %s" % st,
            lambda sg, st=st, p=project: sg.find("Task", [["project", "is", {"type": "Project", "id": p["id"]}], ["sg_status_list", "is", st]],
                                                 ["content", "entity", "sg_status_list"], order=asc))
    add("Shots with sequence code (link)", lambda sg, p=project: sg.find("Shot", [["project", "is", {"type": "Project", "id": p["id"]}]],
                                                                         ["code", "sg_sequence.Sequence.code"], order=asc))
    add("Tasks with shot's sequence (deep link)", lambda sg, i=[s["id"] for s in picked[:5]]: sg.find(
        "Task", [["entity", "type_is", "Shot"], ["entity.Shot.id", "in", i]], ["content", "entity.Shot.sg_sequence", "entity.Shot.code"], order=asc))
    add("Sequences with shots", lambda sg, p=project: sg.find("Sequence", [["project", "is", {"type": "Project", "id": p["id"]}]], ["code", "shots"], order=asc))
    add("Shots by sequence code (filter through a link)", lambda sg, c=seqs[0]["code"]: sg.find("Shot", [["sg_sequence.Sequence.code", "is", c]], ["code"], order=asc))
    add("Shots cut_in > 1000 or description set", lambda sg: sg.find(
        "Shot", [{"filter_operator": "any", "filters": [["sg_cut_in", "greater_than", 1000], ["description", "is_not", None]]}], ["code", "sg_cut_in"], order=asc))
    add("Shot ids in", lambda sg, i=[s["id"] for s in picked]: sg.find("Shot", [["id", "in", i]], ["code", "sg_sequence"], order=asc))
    add("Shots retired", lambda sg: sg.find("Shot", [], ["code"], order=asc, retired_only=True))
    add("Shots by code order desc, limit 5", lambda sg: sg.find("Shot", [], ["code"], order=[{"field_name": "code", "direction": "desc"}], limit=5))
    for a in assets[:3]:
        add("Asset id %d" % a["id"], lambda sg, i=a["id"]: sg.find_one("Asset", [["id", "is", i]], ["code", "sg_asset_type", "project"]))
    add("Assets of project", lambda sg, p=project: sg.find("Asset", [["project", "is", {"type": "Project", "id": p["id"]}]], ["code", "sg_asset_type"], order=asc))
    add("Versions of first shots", lambda sg, i=[s["id"] for s in picked[:4]]: sg.find(
        "Version", [["entity", "type_is", "Shot"], ["entity.Shot.id", "in", i]], ["code", "entity", "sg_status_list"], order=asc))
    add("Steps", lambda sg: sg.find("Step", [], ["code", "short_name", "entity_type"], order=asc))
    add("HumanUser by login", lambda sg: sg.find_one("HumanUser", [["login", "is", HUMAN]], ["name", "email", "login"]))
    add("Project by id", lambda sg, p=project: sg.find_one("Project", [["id", "is", p["id"]]], ["name", "sg_status"]))
    add("First Task with a status", lambda sg: sg.find_one("Task", [["sg_status_list", "is_not", None]], ["content"], order=asc))
    return reads, {"project": project, "shots": shots, "sequences": seqs, "picked": picked}


def callers(args):
    return [("script", SCRIPT, KEY), ("user", HUMAN, PASSWORD), ("script", OTHER_SCRIPT, OTHER_KEY)]


def label(who):
    return "%s:%s" % (who[0], who[1])


def same(a, b):
    return json.dumps(a["bodies"], sort_keys=True) == json.dumps(b["bodies"], sort_keys=True)


def round_all(cache_clients, site_clients, reads, compare=True):
    """Every read by every caller through the cache (and straight to the site when compare); returns rows."""
    rows = []
    for who, sg in cache_clients.items():
        for name, fn in reads:
            got = call(sg, fn)
            row = {"who": who, "read": name, **{k: got[k] for k in ("outcome", "s", "error", "reasons", "statuses")}, "bodies": got["bodies"]}
            if compare:
                want = call(site_clients[who], fn)
                row["equal"] = same(got, want)
                row["site_outcome"] = want["outcome"]
                if not row["equal"]:
                    row["site_bodies"] = want["bodies"]
            rows.append(row)
    return rows


def tally(rows):
    out = {}
    for r in rows:
        out[r["outcome"]] = out.get(r["outcome"], 0) + 1
    return out


def diff_summary(r):
    a = json.dumps(r["bodies"], sort_keys=True)
    b = json.dumps(r.get("site_bodies"), sort_keys=True)
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return "%s / %s (%s, %s): cache ...%s... site ...%s..." % (r["who"], r["read"], r["outcome"], ",".join(r["reasons"]), a[max(0, i - 80):i + 80], b[max(0, i - 80):i + 80])


def warm(args, cache_clients, site_clients, reads, timeout):
    """Asks every read until each is a hit for each caller (or the timeout); returns the set of (who, read) hits."""
    t0 = time.time()
    hits = set()
    n = 0
    while True:
        n += 1
        rows = round_all(cache_clients, site_clients, reads)
        for r in rows:
            if not r["equal"]:
                check("before: %s equals the site" % r["read"], False, diff_summary(r))
        hits = {(r["who"], r["read"]) for r in rows if r["outcome"] == "hit"}
        if len(hits) == len(rows) or time.time() - t0 > timeout:
            misses = [(r["who"], r["read"], r["outcome"], r["reasons"]) for r in rows if r["outcome"] != "hit"]
            log("warm: %d of %d reads hits after %d rounds, %.0f s; not hits: %s" % (len(hits), len(rows), n, time.time() - t0, misses))
            return hits, rows
        time.sleep(2)


def make_clients(args, connect=True):
    cache = {label(w): client(args.cache_url, w, connect) for w in callers(args)}
    site = {label(w): client(args.site_url, w, connect) for w in callers(args)}
    return cache, site


def wait_ready(args, timeout=600):
    return wait_for("the stack's /status ready", lambda: (http_json(args.cache_url + "/status") or {}).get("ready") is True, timeout, 1)


# --- the outage ---------------------------------------------------------------------------------------------------
def outage(args, report):
    cache, site = make_clients(args)
    reads, ctx = build_reads(site[label(callers(args)[0])])
    log("reads: %d per caller, %d callers" % (len(reads), len(cache)))
    hot, rows = warm(args, cache, site, reads, args.warm_s)
    before = {(r["who"], r["read"]): json.dumps(r["bodies"], sort_keys=True) for r in rows}
    res = {"reads": len(reads), "callers": list(cache), "hot_before": len(hot), "asked_per_round": len(rows), "rounds": []}
    report["outage"] = res

    def connect(tag):
        t0 = time.time()
        try:
            sg = client(args.cache_url, callers(args)[0])  # connect=True: info first, as every tool launch does
            ok = bool(sg.server_caps.version)
            res["connect_" + tag] = {"ok": ok, "s": round(time.time() - t0, 2), "version": list(sg.server_caps.version)}
        except Exception as e:
            res["connect_" + tag] = {"ok": False, "s": round(time.time() - t0, 2), "error": repr(e)[:200]}
        check("a new client connects at the %s of the outage (%.1f s)" % (tag, time.time() - t0), res["connect_" + tag]["ok"], res["connect_" + tag])

    def write(tag):
        sid = ctx["picked"][0]["id"]
        got = call(cache[label(callers(args)[0])], lambda sg: sg.update("Shot", sid, {"description": "written during the outage"}))
        body = got["raw"][0] if got["raw"] else b""
        body = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        res["write_" + tag] = {"outcome": got["outcome"], "s": round(got["s"], 2), "maintenance_page": "maintenance" in body.lower()}
        check("a write during the outage (%s) gets the site's 503" % tag, got["outcome"] == "http503" and "maintenance" in body.lower(), res["write_" + tag])

    site_before = http_json(args.site_url + "/__sim/stats")["requests"]
    chaos(args, {"down": "maintenance"})
    t_down = time.time()
    log("site down (maintenance 503) for %d s" % args.outage_s)
    connect("start")
    write("start")
    k = 0
    while True:
        t_round = t_down + k * args.round_s
        if t_round > t_down + args.outage_s:
            break
        time.sleep(max(0, t_round - time.time()))
        t_start = time.time()
        rows = round_all(cache, site, reads, compare=False)
        rec = {"t": round(t_start - t_down), "round_s": round(time.time() - t_start, 1), "asked": len(rows), **tally(rows)}
        hot_rows = [r for r in rows if (r["who"], r["read"]) in hot]
        rec["hot_served"] = sum(1 for r in hot_rows if r["outcome"] in ("served-stale", "hit"))
        rec["hot_served_marked"] = sum(1 for r in hot_rows if r["outcome"] == "served-stale")
        rec["served_equal_before"] = sum(1 for r in rows if r["outcome"] in ("served-stale", "hit")
                                         and json.dumps(r["bodies"], sort_keys=True) == before[(r["who"], r["read"])])
        rec["served_differing"] = sum(1 for r in rows if r["outcome"] in ("served-stale", "hit")
                                      and json.dumps(r["bodies"], sort_keys=True) != before[(r["who"], r["read"])])
        rec["slow"] = sum(1 for r in rows if r["s"] > SLOW_S)
        rec["max_s"] = round(max(r["s"] for r in rows), 2)
        rec["http500"] = sum(1 for r in rows if r["outcome"] == "http500")
        per = {}
        for r in rows:
            p = per.setdefault(r["who"], {"served": 0, "other": 0})
            p["served" if r["outcome"] in ("served-stale", "hit") else "other"] += 1
        rec["per_caller"] = per
        res["rounds"].append(rec)
        log("round t=%ds: %s" % (rec["t"], json.dumps({k2: v for k2, v in rec.items() if k2 != "t"})))
        k += 1
        if k == 6:
            write("middle")
    time.sleep(max(0, t_down + args.outage_s - time.time()))
    connect("end")
    write("end")
    chaos_state = http_json(args.site_url + "/__sim/chaos")
    site_calls = http_json(args.site_url + "/__sim/stats")["requests"] - site_before
    chaos(args, {"down": None})
    t_up = time.time()
    minutes = (t_up - t_down) / 60
    # The drill's own requests straight to the site during the outage are none (compare=False), so every request the
    # site saw came from the cache (its pass-throughs, probes, poller) or the drill's new-client connects.
    res["site_requests_during"] = site_calls
    res["site_requests_per_min"] = round(site_calls / minutes, 1)
    res["refused"] = chaos_state.get("refused")
    res["outage_s"] = round(t_up - t_down)
    log("the site saw %d requests in the %.0f s outage (%.1f a minute; %s refused), the drill's own connects and writes included"
        % (site_calls, t_up - t_down, res["site_requests_per_min"], res["refused"]))
    all_rounds = res["rounds"]
    res["totals"] = {
        "asked": sum(r["asked"] for r in all_rounds),
        "hot_asked": len(hot) * len(all_rounds),
        "hot_served": sum(r["hot_served"] for r in all_rounds),
        "hot_served_marked": sum(r["hot_served_marked"] for r in all_rounds),
        "passed_503": sum(r.get("http503", 0) for r in all_rounds),
        "pass": sum(r.get("pass", 0) for r in all_rounds),
        "http500": sum(r["http500"] for r in all_rounds),
        "slow": sum(r["slow"] for r in all_rounds),
        "max_s": max(r["max_s"] for r in all_rounds),
        "served_differing": sum(r["served_differing"] for r in all_rounds),
    }
    t = res["totals"]
    check("every read that was a hit before is served in every round (%d of %d)" % (t["hot_served"], t["hot_asked"]), t["hot_served"] == t["hot_asked"], t)
    check("served answers equal the site's before the outage", t["served_differing"] == 0, t)
    check("no HTTP 500 during the outage", t["http500"] == 0, t)
    check("no call over %d s (max %.1f s)" % (SLOW_S, t["max_s"]), t["slow"] == 0, t)

    # Back up: 20 writes through the cache, then how long until the last is a hit, and every read against the site.
    log("site up; 20 writes through the cache")
    sg = cache[label(callers(args)[0])]
    targets = [s["id"] for s in ctx["shots"]][:20]
    stamp = "after the outage %s" % time.strftime("%H%M%S")
    t_first_write = None
    for i, sid in enumerate(targets):
        for attempt in range(100):
            try:
                sg.update("Shot", sid, {"description": "%s #%d" % (stamp, i), "sg_cut_in": 2000 + i})
                break
            except Exception as e:  # the breaker may still be open for a few seconds after the site is back
                if attempt == 99:
                    raise
                time.sleep(0.2)
        t_first_write = t_first_write or time.time()
    t_last_write = time.time()
    res["writes_accepted_after_s"] = round(t_first_write - t_up, 2)
    last = targets[-1]
    want = "%s #%d" % (stamp, len(targets) - 1)

    def visible():
        got = call(sg, lambda c: c.find_one("Shot", [["id", "is", last]], ["description"]))
        return got["outcome"] == "hit" and got["bodies"] and json.dumps(got["bodies"]).find(want) >= 0

    wait_for("the last write as a hit", visible, 300, 0.1)
    res["last_write_visible_hit_s"] = round(time.time() - t_last_write, 2)
    log("through the cache: the last of 20 writes visible as a hit %.2f s after it was made (site up %.1f s before the first write was accepted)"
        % (res["last_write_visible_hit_s"], res["writes_accepted_after_s"]))
    # The same straight on the site (another tool, a web page): seen only through the event log (poll, queue, consumer).
    direct = site[label(callers(args)[0])]
    stamp2 = "straight on the site %s" % time.strftime("%H%M%S")
    for i, sid in enumerate(targets):
        direct.update("Shot", sid, {"description": "%s #%d" % (stamp2, i), "sg_cut_in": 3000 + i})
    t_last_write = time.time()
    want = "%s #%d" % (stamp2, len(targets) - 1)
    wait_for("the last site write as a hit", visible, 300, 0.1)
    res["last_site_write_visible_hit_s"] = round(time.time() - t_last_write, 2)
    log("straight on the site: the last of 20 writes visible as a hit %.2f s after it was made" % res["last_site_write_visible_hit_s"])
    rows = round_all(cache, site, reads)
    res["after_immediately"] = {"equal": sum(r["equal"] for r in rows), "of": len(rows), **tally(rows)}
    for r in rows:
        if not r["equal"]:
            log("  differs: " + diff_summary(r))
    check("right after: every read equals the site's (%d of %d)" % (res["after_immediately"]["equal"], len(rows)), res["after_immediately"]["equal"] == len(rows), res["after_immediately"])
    t0 = time.time()
    while True:
        rows = round_all(cache, site, reads)
        if sum(r["outcome"] == "hit" for r in rows) >= len(hot) or time.time() - t0 > 120:
            break
        time.sleep(1)
    res["after_settled"] = {"equal": sum(r["equal"] for r in rows), "of": len(rows), "hits": sum(r["outcome"] == "hit" for r in rows),
                            "s_after_up": round(time.time() - t_up, 1), **tally(rows)}
    for r in rows:
        if not r["equal"]:
            log("  differs: " + diff_summary(r))
    check("settled: every read equals the site's (%d of %d, %d hits)" % (res["after_settled"]["equal"], len(rows), res["after_settled"]["hits"]),
          res["after_settled"]["equal"] == len(rows), res["after_settled"])


# --- the cache stopped or killed while the site changes ---------------------------------------------------------------
def change_site(args, n, seed, ctx, started, done_count):
    """n changes straight on the site as the cache's script: updates, relinks, retirements, revivals (in turn)."""
    sg = client(args.site_url, callers(args)[0])
    rnd = random.Random(seed)
    shot_ids = [s["id"] for s in ctx["picked"]] + [s["id"] for s in ctx["shots"]]
    seqs = [q["id"] for q in ctx["sequences"]]
    for i in range(n):
        op = i % 4
        if op == 0:
            sg.update("Shot", rnd.choice(shot_ids), {"description": "change %d/%d" % (seed, i), "sg_cut_in": rnd.randint(1, 3000)})
        elif op == 1:
            sg.update("Shot", rnd.choice(shot_ids), {"sg_sequence": {"type": "Sequence", "id": rnd.choice(seqs)}})
        elif op == 2:
            active = sg.find("Shot", [["id", "in", shot_ids]], ["id"])
            if active:
                sg.delete("Shot", rnd.choice(active)["id"])
        else:
            retired = sg.find("Shot", [["id", "in", shot_ids]], ["id"], retired_only=True)
            if retired:
                sg.revive("Shot", rnd.choice(retired)["id"])
        done_count[0] += 1
        if i == 0:
            started.set()
        time.sleep(args.change_every_s)


def restart(args, stack, how, seed, report):
    cache, site = make_clients(args)
    reads, ctx = build_reads(site[label(callers(args)[0])])
    hot, _ = warm(args, cache, site, reads, args.warm_s)
    res = {"how": how, "hot_before": len(hot), "asked_per_round": len(reads) * len(cache)}
    report.setdefault("restarts", []).append(res)
    started, done = threading.Event(), [0]
    th = threading.Thread(target=change_site, args=(args, args.changes, seed, ctx, started, done), daemon=True)
    th.start()
    started.wait(60)
    while done[0] < args.changes // 6:  # some changes land while the cache still runs (mid-poll), the rest while it is down
        time.sleep(0.05)
    sig = signal.SIGTERM if how == "stop" else signal.SIGKILL
    res["changes_before_signal"] = done[0]
    stack.signal(sig)
    down_s = stack.wait_down(60)
    if down_s is None:
        check("%s: the stack exits within 60 s" % how, False, "still running: killing the group")
        stack.signal(signal.SIGKILL)
        down_s = stack.wait_down(30)
    res["exit_s"] = round(down_s, 1) if down_s is not None else None
    res["exit_code"] = stack.proc.returncode
    th.join()
    res["changes"] = done[0]
    log("%s: stack down in %s s after %s; %d changes made on the site (%d before the signal)" % (how, res["exit_s"], sig.name, done[0], res["changes_before_signal"]))
    time.sleep(args.down_s)

    # Restart on the same data; from the first reply on, every answer compared with the site's.
    t_launch = stack.start()
    cache = {label(w): client(args.cache_url, w, connect=False, timeout=60) for w in callers(args)}
    first = None
    answers, mismatches, rounds = 0, [], []
    all_hit_s = None
    ready_s = None
    outcomes = {}
    slow = [0]
    all_rows = []
    while True:
        now = time.time()
        if first is not None and now - first > args.watch_s and all_hit_s is not None:
            break
        if first is not None and now - first > args.watch_s * 3:
            break
        if now - t_launch > 600:
            check("%s: the API answers within 600 s of the restart" % how, False)
            return
        if first is None and not port_open(args.port):
            time.sleep(0.05)
            continue
        round_rows = []
        for who, sg in cache.items():
            for name, fn in reads:
                got = call(sg, fn)
                if got["outcome"] == "no-reply":
                    continue  # the API not listening yet: no reply to compare
                if first is None:
                    first = time.time()
                    log("%s: first reply %.1f s after the restart (%s)" % (how, first - t_launch, got["outcome"]))
                want = call(site[who], fn)
                answers += 1
                slow[0] += got["s"] > SLOW_S
                outcomes[got["outcome"]] = outcomes.get(got["outcome"], 0) + 1
                row = {"who": who, "read": name, "outcome": got["outcome"], "reasons": got["reasons"], "bodies": got["bodies"],
                       "site_bodies": want["bodies"], "t": round(time.time() - first, 1), "s": got["s"]}
                if not same(got, want):
                    mismatches.append(row)
                    log("  DIFFERS at +%.1f s: %s" % (row["t"], diff_summary(row)))
                round_rows.append(row)
                all_rows.append(row)
        if ready_s is None and (http_json(args.cache_url + "/status", timeout=2) or {}).get("ready") is True:
            ready_s = time.time() - t_launch
        if round_rows:
            hits = sum(r["outcome"] == "hit" for r in round_rows)
            rounds.append({"t": round(round_rows[0]["t"], 1), "answers": len(round_rows), "hits": hits, "equal": sum(1 for r in round_rows if r not in mismatches),
                           "max_s": round(max(r["s"] for r in round_rows), 2)})
            if all_hit_s is None and hits >= len(hot) and len(round_rows) == res["asked_per_round"]:
                all_hit_s = time.time() - first
    res.update({
        "first_reply_after_launch_s": round(first - t_launch, 1),
        "ready_after_launch_s": round(ready_s, 1) if ready_s else None,
        "answers": answers,
        "outcomes": outcomes,
        "mismatches": len(mismatches),
        "mismatch_examples": [diff_summary(m)[:600] for m in mismatches[:5]],
        "hot_again_after_first_reply_s": round(all_hit_s, 1) if all_hit_s is not None else None,
        # Every answer after this one was a hit (the finer figure: rounds take seconds).
        "last_non_hit_after_first_reply_s": max([r["t"] for r in all_rows if r["outcome"] != "hit"], default=0.0),
        "max_call_s": round(max(r["s"] for r in all_rows), 2),
        "rounds": rounds,
        "http500": outcomes.get("http500", 0),
        "slow": slow[0],
    })
    log("%s: %d answers in %.0f s from the first reply, %d differing from the site; outcomes %s; every answer a hit from %s s after the first reply; rounds (t, hits, equal, answers, max s) %s"
        % (how, answers, time.time() - first, len(mismatches), outcomes, res["last_non_hit_after_first_reply_s"],
           [(r["t"], r["hits"], r["equal"], r["answers"], r["max_s"]) for r in rounds]))
    check("%s: every answer equals the site's from the first reply on (%d of %d)" % (how, answers - len(mismatches), answers), not mismatches, res["mismatch_examples"])
    check("%s: reads are hits again within %d s" % (how, args.watch_s * 3), all_hit_s is not None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python-api", default=os.environ.get("SG_PYTHON_API", "/tmp/python-api"))
    ap.add_argument("--outage-s", type=int, default=360, help="how long the site is down (default 360)")
    ap.add_argument("--round-s", type=int, default=30, help="every read asked again this often during the outage (default 30)")
    ap.add_argument("--stops", type=int, default=2, help="clean stops (SIGTERM) to drill (default 2)")
    ap.add_argument("--kills", type=int, default=2, help="kills (SIGKILL of the whole stack) to drill (default 2)")
    ap.add_argument("--changes", type=int, default=60, help="changes made on the site around each stop (default 60)")
    ap.add_argument("--change-every-s", type=float, default=0.2)
    ap.add_argument("--down-s", type=float, default=5, help="how long the cache stays down after the changes (default 5)")
    ap.add_argument("--watch-s", type=int, default=60, help="how long answers are compared after a restart (default 60)")
    ap.add_argument("--warm-s", type=int, default=240)
    ap.add_argument("--skip", choices=["outage", "restart"], action="append", default=[])
    ap.add_argument("--keep", action="store_true", help="leave the stack and the site running at the end")
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args()
    args.port = int(os.environ.get("PORT", 8010))
    args.sim_port = int(os.environ.get("SIM_PORT", 8020))
    args.dynamodb_port = int(os.environ.get("DYNAMODB_PORT", 8000))
    args.sqs_port = int(os.environ.get("SQS_PORT", 9324))
    args.data_dir = os.path.abspath(os.environ.get("DATA_DIR", os.path.join(ROOT, ".fpt-cache")))
    args.logs = args.data_dir + ".logs"
    args.cache_url = "http://127.0.0.1:%d" % args.port
    args.site_url = "http://127.0.0.1:%d" % args.sim_port
    load_client(args.python_api)
    # A SIGTERM (or Ctrl-C) ends the drill through the finally below: figures written, the stack and the site stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "args": {k: v for k, v in vars(args).items()}}
    stack = Stack(args)
    try:
        stack.start_site(fresh=True)
        t0 = stack.start(fresh=True)
        wait_ready(args)
        report["first_ready_s"] = round(time.time() - t0, 1)
        log("stack ready (logs in %s)" % args.logs)
        if "outage" not in args.skip:
            outage(args, report)
        if "restart" not in args.skip:
            # Clean stops first: after a kill, the local SQS's lost messages keep their types passing for up to 10 min
            # (their pending markers), which would leave the next run's reads cold.
            plan = ["stop"] * args.stops + ["kill"] * args.kills
            for i, how in enumerate(plan):
                restart(args, stack, how, 100 + i, report)
    finally:
        report["failures"] = failures
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1, default=str)
        if not args.keep:
            stack.stop_all()
    log("%d failed checks%s" % (len(failures), (": " + "; ".join(failures)) if failures else ""))
    sys.exit(len(failures))


if __name__ == "__main__":
    main()
