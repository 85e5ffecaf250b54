#!/usr/bin/python3
"""Table for bench/issuance.sh: reads BENCH_T/result-SERVER-ROUND.json (acme_load.py's
output) and BENCH_T/meta-SERVER-ROUND.json (server CPU seconds, peak RSS, status,
attempts, written by issuance.sh) and prints one row per server and round, the
median per server when there are several rounds, and the flintd/Pebble ratios."""
import json, os, statistics

T = os.environ["BENCH_T"]
SERVERS = os.environ["BENCH_SERVERS"].split()
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))


def load(name):
    try:
        with open(os.path.join(T, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def row(server, rnd):
    r, meta = load("result-%s-%d.json" % (server, rnd)), load("meta-%s-%d.json" % (server, rnd))
    if meta is None:
        return None
    m = {"round": rnd, "status": meta["status"], "attempts": meta.get("attempts", 1),
         "cpu": meta.get("cpu_s"), "rss": meta.get("rss_mb"), "result": r is not None}
    if r is None:
        return m
    n = r["issued"]
    m.update(issued=n, requested=r["requested"], rate=r["certs_per_s"], p50=r["latency_s"]["p50"],
             p95=r["latency_s"]["p95"], wall=r["wall_s"],
             cpu_per=(m["cpu"] / n * 1000) if m["cpu"] is not None and n else None,
             client_per=(r["client_cpu_s"] / n * 1000) if r.get("client_cpu_s") is not None and n else None,
             errors=r.get("error_samples", []))
    return m


def fmt(v, f):
    return "n/a" if v is None else f % v


HDR = "%-7s %5s %9s %8s %7s %7s %7s %9s %11s %11s %7s  %s"
print(HDR % ("server", "round", "issued", "issued/s", "p50 ms", "p95 ms", "wall s", "srv CPU s",
             "srv ms/cert", "load ms/cert", "peak MB", "status"))


def show(server, m, label):
    if not m.get("result"):
        print("%-7s %5s  no result (%s)" % (server, label, m["status"]))
        return
    st = m["status"]
    if m.get("attempts", 1) > 1:
        st += " (start %d; %d stalled before)" % (m["attempts"], m["attempts"] - 1)
    print(HDR % (server, label, "%d/%d" % (m["issued"], m["requested"]) if "requested" in m else "",
                 fmt(m["rate"], "%.1f"), fmt(m["p50"] and m["p50"] * 1000, "%.0f"),
                 fmt(m["p95"] and m["p95"] * 1000, "%.0f"), fmt(m["wall"], "%.1f"),
                 fmt(m["cpu"], "%.2f"), fmt(m["cpu_per"], "%.2f"), fmt(m["client_per"], "%.1f"),
                 fmt(m["rss"], "%d"), st))


summary = {}
for s in SERVERS:
    rows = [m for m in (row(s, r) for r in range(1, ROUNDS + 1)) if m]
    for m in rows:
        show(s, m, str(m["round"]))
        if m["status"] == "partial" and m.get("errors"):
            print("        errors, e.g.: %s" % "; ".join(m["errors"][:3]))
    good = [m for m in rows if m.get("result") and m["status"] == "ok"]
    use = good or [m for m in rows if m.get("result")]
    if not use:
        continue
    med = lambda k: (statistics.median([m[k] for m in use if m[k] is not None])
                     if any(m[k] is not None for m in use) else None)
    agg = {k: med(k) for k in ("rate", "p50", "p95", "wall", "cpu", "cpu_per", "client_per", "rss")}
    agg.update(result=True, status="ok" if good else "INCOMPLETE", comparable=bool(good), n=len(use))
    if ROUNDS > 1:
        show(s, agg, "med")
    summary[s] = agg

a, b = summary.get("flintd"), summary.get("pebble")
if a and b:
    ratio = lambda x, y: "n/a" if x is None or not y else "%.2f" % (x / y)
    what = "medians over the complete rounds" if ROUNDS > 1 else "one round each"
    print("flintd/pebble (%s): issued/s %s, p50 %s, p95 %s, server CPU per issuance %s" % (
        what, ratio(a["rate"], b["rate"]), ratio(a["p50"], b["p50"]), ratio(a["p95"], b["p95"]),
        ratio(a["cpu_per"], b["cpu_per"])))
    bad = [s for s in ("flintd", "pebble") if not summary[s]["comparable"]]
    if bad:
        print("  NOT COMPARABLE: %s issued not every certificate in any round (issued/s then"
              " counts the time it hung); run again" % " and ".join(bad))
