#!/usr/bin/python3
"""Table for bench/client.sh. Reads BENCH_T/runs/MODE+ROUND-CLIENT.json (the figures
client_measure.py wrote) and .verdict ("ok" or why the run failed) for every mode in
BENCH_MODES and client in BENCH_CLIENTS; prints per client the runs that issued a
valid certificate, median/min/max wall time, median peak RSS and median CPU, every
run's figures, then flint's ratios to the others. Medians are over the good runs
only. It judges no number; exit status 0 unless it found no run at all."""
import glob
import json
import os
import re
import statistics

T = os.environ["BENCH_T"]
CLIENTS = os.environ["BENCH_CLIENTS"].split()
MODES = os.environ.get("BENCH_MODES", "new").split()

MODE_TITLE = {
    "new": "a new account in every run: fresh state directory, so each run registers an "
           "account, then orders, answers http-01, finalizes and downloads",
    "existing": "a pre-registered account: fresh state directory holding only an account "
                "registered during the warm-up; each run orders, answers http-01, "
                "finalizes and downloads",
}


def load_runs(mode, client):
    runs = []
    for path in glob.glob(os.path.join(T, "runs", "%s[0-9]*-%s.json" % (mode, client))):
        m = re.search(r"%s(\d+)-%s\.json$" % (mode, re.escape(client)), path)
        if not m:
            continue
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, ValueError):
            r = {}
        try:
            with open(path[:-5] + ".verdict") as f:
                verdict = f.read().strip()
        except OSError:
            verdict = "no verdict"
        r["round"] = int(m.group(1))
        r["ok"] = verdict == "ok"
        r["why"] = verdict
        runs.append(r)
    # runs that failed before the wrapper ran have only a .verdict
    for path in glob.glob(os.path.join(T, "runs", "%s[0-9]*-%s.verdict" % (mode, client))):
        m = re.search(r"%s(\d+)-%s\.verdict$" % (mode, re.escape(client)), path)
        if m and not os.path.exists(path[:-8] + ".json"):
            with open(path) as f:
                runs.append({"round": int(m.group(1)), "ok": False, "why": f.read().strip()})
    return sorted(runs, key=lambda r: r["round"])


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(v, f):
    return "n/a" if v is None else f % v


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def summary(mode):
    stats = {}
    for c in CLIENTS:
        runs = load_runs(mode, c)
        good = [r for r in runs if r["ok"]]
        walls = [r["wall_s"] for r in good]
        stats[c] = {
            "runs": runs, "n": len(runs), "ok": len(good),
            "wall": med(walls), "min": min(walls) if walls else None, "max": max(walls) if walls else None,
            "rss": med([r["maxrss_kib"] / 1024 for r in good]),
            "cpu": med([r["user_s"] + r["sys_s"] for r in good]),
        }
    return stats


def main():
    total = 0
    floor = [r for r in load_runs("floor", "true") if r["ok"]]
    if floor:
        print("Measuring floor (/bin/true through client_measure.py and GNU time, %d runs): "
              "wall %.3f s, peak RSS %.1f MiB (medians; included in every figure below)" % (
                  len(floor), med([r["wall_s"] for r in floor]),
                  med([r["maxrss_kib"] / 1024 for r in floor])))
    for mode in MODES:
        stats = summary(mode)
        total += sum(s["n"] for s in stats.values())
        print()
        print("== %s" % MODE_TITLE.get(mode, mode))
        print("%-8s %7s %9s %7s %7s %14s %10s" % ("client", "runs ok", "wall s", "min", "max",
                                                "peak RSS MiB", "CPU s"))
        for c in CLIENTS:
            s = stats[c]
            print("%-8s %7s %9s %7s %7s %14s %10s" % (
                c, "%d/%d" % (s["ok"], s["n"]), fmt(s["wall"], "%.3f"), fmt(s["min"], "%.3f"),
                fmt(s["max"], "%.3f"), fmt(s["rss"], "%.1f"), fmt(s["cpu"], "%.3f")))
        print("(wall s, peak RSS and CPU s = user+system: medians over the runs that issued a valid "
              "certificate)")
        print("every run, in round order (wall s / peak RSS MiB):")
        for c in CLIENTS:
            cells = []
            for r in stats[c]["runs"]:
                if r["ok"]:
                    cells.append("%.3f/%.1f" % (r["wall_s"], r["maxrss_kib"] / 1024))
                else:
                    cells.append("FAILED")
            print("  %-8s %s" % (c, "  ".join(cells)))
        for c in CLIENTS:
            for r in stats[c]["runs"]:
                if not r["ok"]:
                    print("  %s round %d FAILED: %s" % (c, r["round"], r["why"]))
        if "flint" in stats:
            f = stats["flint"]
            others = [c for c in CLIENTS if c != "flint"]
            for c in others:
                o = stats[c]
                print("flint/%s: wall %s, peak RSS %s, CPU %s  (below 1: flint faster / smaller / cheaper)" % (
                    c, fmt(ratio(f["wall"], o["wall"]), "%.3f"), fmt(ratio(f["rss"], o["rss"]), "%.3f"),
                    fmt(ratio(f["cpu"], o["cpu"]), "%.3f")))
            measured = [c for c in CLIENTS if stats[c]["wall"] is not None]
            if others and "flint" in measured and len(measured) > 1:
                fastest = min(measured, key=lambda c: stats[c]["wall"])
                smallest = min(measured, key=lambda c: stats[c]["rss"])
                print("fastest (median wall): %s; smallest (median peak RSS): %s" % (fastest, smallest))
    return 0 if total else 1


if __name__ == "__main__":
    raise SystemExit(main())
