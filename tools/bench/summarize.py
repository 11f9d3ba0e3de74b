#!/usr/bin/env python3
"""Tables of tools/bench/run.sh's raw.tsv (medians over rounds).

    python3 tools/bench/summarize.py ~/.cache/goleaktrace/bench/run-DATE/raw.tsv
    tools/bench/run.sh --summarize bench/data/run-DATE     (the same)

Per round, each variant is compared with that round's baseline run of the
same workload and Go version; the tables show the median over rounds.

- ratio: the variant's ops/s divided by the baseline's.
- ns/event (CPU): the extra CPU time the measured process spends per op,
  divided by the probe hits per op:
      ((cpu_v / ops_v) - (cpu_b / ops_b)) / events_per_op
  cpu is the process's user+system time over the window (getrusage), which
  includes the uprobe traps and BPF programs run on its behalf. For http,
  ops is the server's own request count over the window. events_per_op is
  goleaktrace's own count at --max-overhead 100 (its final report: parks +
  spawns + exits, and readies in runs from before runtime.ready was
  dropped, over every op since the start signal) for its
  own runs, and the median of those for the other variants (floor, floor-
  stackid, runtime-trace, and goleaktrace at its default budget, which
  counts only while attached: its ns/event is the average over every
  event of the workload); without goleaktrace runs, the kernel's run
  counts from the counting run (floor --stats). For runtime-trace this is
  the cost per goroutine state change that the probes would see.
- ns/event (wall): the same from throughput, (1/ops_s_v - 1/ops_s_b) / events
  per op. With the target on one CPU at GOMAXPROCS=1 and saturated, the two
  agree; when they differ, CPU is the one to believe for a budget.
- glt/floor ns: goleaktrace's ns/event over the empty programs' (issue 7:
  at most 1.3). glt/floor loss: (1 - ratio) over (1 - ratio) (issue 7: at
  most 1.2 on ping-pong at --max-overhead 100).
- stack walk ns/park: (floor-stackid - floor) CPU per op over parks per op.
"""
import collections
import os
import statistics
import sys

SHORT = {
    "floor": "floor",
    "floor-stackid": "+stackid",
    "goleaktrace": "glt",
    "glt-max100": "glt@100",
    "glt-noprobes": "noprobes",
    "runtime-trace": "rt-trace",
}
TRACERS = ("goleaktrace", "glt-max100", "glt-noprobes")
PROBING = ("goleaktrace", "glt-max100")  # compared with the floor
# The hooks counted; raw.tsv files from before 2026-11-29 04:00 also have
# readies (runtime.ready was probed then). main() keeps those present.
ALL_PROBES = ("parks", "readies", "spawns", "exits")
PROBES = ("parks", "spawns", "exits")
PROBE_COL = dict(zip(ALL_PROBES, ("park", "ready", "spawn", "exit")))


def num(s):
    return None if s in ("", "-", None) else float(s)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


# (tool, program) -> (probe, column) for the BPF run-time table.
PROGS = {
    ("floor", "floor_park"): ("park", "empty"),
    ("floor-stackid", "floor_park_stack"): ("park", "+stkid"),
    ("goleaktrace", "on_gopark"): ("park", "glt"),
    ("floor", "floor_ready"): ("ready", "empty"),
    ("goleaktrace", "on_ready"): ("ready", "glt"),
    ("floor", "floor_spawn"): ("spawn", "empty"),
    ("goleaktrace", "on_newproc1"): ("spawn", "glt"),
    ("floor", "floor_exit"): ("exit", "empty"),
    ("goleaktrace", "on_gexit"): ("exit", "glt"),
    # uprobe_multi (Linux 6.6+): one program for every hook.
    ("goleaktrace", "on_hook"): ("any", "glt"),
}


def bpf_table(path, keys):
    """The kernel's own run time per program run (BPF_STATS_RUN_TIME, from
    the counting run): the program body only, without the uprobe trap."""
    per = {}
    if not os.path.exists(path):
        return per
    with open(path) as f:
        f.readline()
        for line in f:
            w, go, tool, prog, cnt, t = line.rstrip("\n").split("\t")
            col = PROGS.get((tool, prog[:16]))
            if col and int(cnt) >= 1000:  # too few runs to say
                per[(w, go, col)] = int(t) / int(cnt)
    if not per:
        return per
    cols = list(PROGS.values())
    print("\nBPF program run time per hit, ns (kernel's BPF stats, counting "
          "run;\nthe body only, no trap; '-' = under 1000 hits)\n")
    print("%-8s %-5s" % ("", "") + "".join(" %6s" % c[0] for c in cols))
    print("%-8s %-5s" % ("workload", "go") + "".join(" %6s" % c[1] for c in cols))
    for k in keys:
        print("%-8s %-5s" % k + "".join(
            " %6s" % fmt(per.get(k + (c,)), ".0f") for c in cols))
    return per


def body_delta(per, k, per_op):
    """goleaktrace's extra BPF run time per event over the empty programs,
    weighted by how often each probe fires in goleaktrace's runs."""
    if None in per_op or not sum(per_op):
        return None
    extra = 0.0
    for name, n in zip(PROBES, per_op):
        if n < 0.001:
            continue
        g = per.get(k + ((PROBE_COL[name], "glt"),))
        e = per.get(k + ((PROBE_COL[name], "empty"),))
        if g is None or e is None:
            return None
        extra += n * (g - e)
    return extra / sum(per_op)


def pooled(res, keys, others, per):
    """Per workload, all Go versions together: medians over every (Go,
    round) pair, and glt/floor paired within a round."""
    if "floor" not in others:
        return
    workloads = []
    for k in keys:
        if k[0] not in workloads:
            workloads.append(k[0])
    tr = [v for v in PROBING if v in others]
    print("\nAll Go versions pooled (median over every Go version and round;"
          "\nglt÷floor paired within a round; body+ from the BPF stats)\n")
    print("%-8s %3s %8s %6s" % ("workload", "n", "floor ns", "floor")
          + "".join(" %7s %6s %7s" % (SHORT[v] + " ns", SHORT[v],
                                       "÷floor") for v in tr)
          + " %7s %8s" % ("body+", "predict"))
    for w in workloads:
        ks = [k for k in keys if k[0] == w]
        fl = [rr for k in ks for rr in res[k + ("floor",)]["rounds"].values()]
        line = "%-8s %3d %8s %6s" % (
            w, len(fl), fmt(median([x.get("ns") for x in fl]), ".0f"),
            fmt(median([x["ratio"] for x in fl]), ".3f"))
        fns = median([x.get("ns") for x in fl])
        for v in tr:
            rs, pair = [], []
            for k in ks:
                f = res[k + ("floor",)]["rounds"]
                for rnd, x in res[k + (v,)]["rounds"].items():
                    rs.append(x)
                    if rnd in f and x.get("ns") is not None and f[rnd].get("ns"):
                        pair.append(x["ns"] / f[rnd]["ns"])
            line += " %7s %6s %7s" % (
                fmt(median([x.get("ns") for x in rs]), ".0f"),
                fmt(median([x["ratio"] for x in rs]), ".3f"),
                fmt(median(pair), ".2f"))
        deltas = [body_delta(per, k, res[k + ("per_op",)]) for k in ks]
        d = median(deltas)
        line += " %7s %8s" % (fmt(d, ".0f"),
                              fmt((fns + d) / fns if d is not None and fns
                                  else None, ".2f"))
        print(line)


def budget_table(res, keys, others):
    """The default budget's cost from exact counts: the probe hits it took
    per op (its own count, only while attached) times the cost of a hit
    measured at --max-overhead 100, against the baseline's CPU per op.
    With the target saturating its CPU this is the throughput it leaves,
    free of the run-to-run noise that the measured ratio carries (shown
    next to it, and --no-probes' ratio as that noise's yardstick)."""
    if "goleaktrace" not in others or "glt-max100" not in others:
        return
    print("\nDefault budget from counts: taken ev/op x glt@100 ns/event, as "
          "a share of\nthe baseline's CPU per op, and the throughput that "
          "leaves (implied)\n")
    print("%-8s %-5s %9s %8s %7s %8s %9s %9s" % (
        "workload", "go", "taken/op", "ns/ev", "cpu %", "implied",
        "measured", "noprobes"))
    for k in keys:
        d, full = res[k + ("goleaktrace",)], res[k + ("glt-max100",)]
        base = res[k + ("base",)]
        share = (d["ev_op"] * full["ns_cpu"] * base * 1e-9
                 if None not in (d["ev_op"], full["ns_cpu"], base) else None)
        nop = res.get(k + ("glt-noprobes",), {}).get("ratio")
        print("%-8s %-5s %9s %8s %7s %8s %9s %9s" % (
            k[0], k[1], fmt(d["ev_op"], ".4f"), fmt(full["ns_cpu"], ".0f"),
            fmt(share * 100 if share is not None else None, ".2f"),
            fmt(1 / (1 + share) if share is not None else None, ".3f"),
            fmt(d["ratio"], ".3f"), fmt(nop, ".3f")))


def main(path):
    global PROBES
    rows = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        PROBES = tuple(c for c in ALL_PROBES if c in header)
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))

    keys = []  # (workload, go) in run order
    variants = []
    events_per_op = {}  # (w, go) -> (total, parks) from the counting run
    runs = collections.defaultdict(dict)  # (w, go, variant) -> round -> run
    failed = collections.Counter()
    hits, counted = {}, {}  # counting run: kernel run counts, goleaktrace's
    for r in rows:
        k = (r["workload"], r["go"])
        if k not in keys:
            keys.append(k)
        if r["variant"] == "count-floor":
            ev = [num(r[c]) for c in PROBES]
            hits[k] = ev
            ops = num(r["ops_total"])
            events_per_op[k] = (sum(ev) / ops, ev[0] / ops)
            continue
        if r["variant"] == "count-goleaktrace":
            # Same run as count-floor: goleaktrace must have seen every hit.
            counted[k] = [num(r[c]) for c in PROBES]
            continue
        if r["variant"] not in variants:
            variants.append(r["variant"])
        if r["status"] != "ok":
            failed[(k, r["variant"])] += 1
            continue
        ops = num(r["ops"])
        run = {
            "ops_s": ops / num(r["seconds"]),
            "cpu_op": num(r["cpu_ns"]) / (num(r["server_ops"]) or ops),
        }
        if r["parks"] not in ("", "-"):
            per = [num(r[c]) / num(r["ops_total"]) for c in PROBES]
            run["ev_op"] = sum(per)
            run["per_op"] = per
        runs[k + (r["variant"],)][r["round"]] = run

    others = [v for v in variants if v != "baseline"]
    res = {}  # (w, go, v) -> dict of medians
    for k in keys:
        base = runs.get(k + ("baseline",), {})
        ev_count, parks_op = events_per_op.get(k, (None, None))
        # Events per op for variants that do not count: goleaktrace's own
        # (median of its runs, one tracer attached as in those runs), else
        # the counting run's (three tracers attached: on http, a slower
        # server parks a little less per request).
        full = "glt-max100" if runs.get(k + ("glt-max100",)) else "goleaktrace"
        glt_runs = runs.get(k + (full,), {}).values()
        glt_ev = median([r.get("ev_op") for r in glt_runs])
        ev_count = glt_ev or ev_count
        per_op = [median([r["per_op"][i] for r in glt_runs if "per_op" in r])
                  for i in range(len(PROBES))]
        if per_op[0] is not None:
            parks_op = per_op[0]
        res[k + ("per_op",)] = per_op
        for v in others:
            ratio, ns_cpu, ns_wall, ev_ops = [], [], [], []
            by_round = {}
            for rnd, run in runs.get(k + (v,), {}).items():
                b = base.get(rnd)
                if not b:
                    continue
                # --no-probes counts nothing: the target's events are those
                # goleaktrace counts when probing.
                # At the default budget it counts only while attached.
                ev = (run.get("ev_op") or ev_count) if v == full else ev_count
                ratio.append(run["ops_s"] / b["ops_s"])
                by_round[rnd] = {"ratio": run["ops_s"] / b["ops_s"]}
                if ev:
                    ns_cpu.append((run["cpu_op"] - b["cpu_op"]) / ev)
                    by_round[rnd]["ns"] = ns_cpu[-1]
                    ns_wall.append((1 / run["ops_s"] - 1 / b["ops_s"]) * 1e9 / ev)
                ev_ops.append(run.get("ev_op"))
            res[k + (v,)] = {
                "n": len(ratio),
                "ratio": median(ratio),
                "min": min(ratio) if ratio else None,
                "max": max(ratio) if ratio else None,
                "ns_cpu": median(ns_cpu),
                "ns_wall": median(ns_wall),
                "ev_op": median(ev_ops),
                "rounds": by_round,
            }
        # The stack walk alone: floor-stackid minus floor, per park; only
        # where parks are a good part of the events (not spawn's 1 in 64).
        walk = []
        for rnd, s in runs.get(k + ("floor-stackid",), {}).items():
            f = runs.get(k + ("floor",), {}).get(rnd)
            if f and parks_op and parks_op >= 0.5:
                walk.append((s["cpu_op"] - f["cpu_op"]) / parks_op)
        res[k + ("walk",)] = median(walk)
        res[k + ("base",)] = median([b["ops_s"] for b in base.values()])
        res[k + ("ev",)] = ev_count

    cols = [SHORT.get(v, v[:9]) for v in others]

    for k in keys:
        h, c = hits.get(k), counted.get(k)
        if h and c and any(None in (a, b) or abs(a - b) > 0.001 * max(a, 1)
                           for a, b in zip(h, c)):
            print("WARNING: %s go%s: goleaktrace counted %s events, the kernel "
                  "ran its probes %s times" % (k[0], k[1], c, h))

    print("\nThroughput, ratio to baseline (median of rounds)\n")
    print("%-8s %-5s %12s" % ("workload", "go", "baseline/s")
          + "".join(" %9s" % c for c in cols))
    for k in keys:
        print("%-8s %-5s %12s" % (k[0], k[1], fmt(res[k + ("base",)], ",.0f"))
              + "".join(" %9s" % fmt(res[k + (v,)]["ratio"], ".3f")
                        for v in others))

    print("\nCost per probe event, ns of the target's CPU (median of rounds)\n")
    print("%-8s %-5s %6s" % ("workload", "go", "ev/op")
          + "".join(" %9s" % c for c in cols))
    for k in keys:
        print("%-8s %-5s %6s" % (k[0], k[1], fmt(res[k + ("ev",)], ".3f"))
              + "".join(" %9s" % fmt(res[k + (v,)]["ns_cpu"], ".0f")
                        for v in others))

    if "floor" in others:
        print("\nAgainst the floor (empty programs, same probe positions)\n")
        tr = [v for v in PROBING if v in others]
        print("%-8s %-5s" % ("workload", "go")
              + "".join(" %13s %14s" % (SHORT[v] + " ns÷floor", "loss÷floor")
                        for v in tr)
              + " %11s" % "walk ns/park")
        for k in keys:
            fl = res[k + ("floor",)]
            line = "%-8s %-5s" % k
            for v in tr:
                g = res[k + (v,)]
                nsr = (g["ns_cpu"] / fl["ns_cpu"]
                       if g["ns_cpu"] is not None and fl["ns_cpu"] else None)
                lossr = ((1 - g["ratio"]) / (1 - fl["ratio"])
                         if g["ratio"] is not None and fl["ratio"] is not None
                         and fl["ratio"] < 1 else None)
                line += " %13s %14s" % (fmt(nsr, ".2f"), fmt(lossr, ".2f"))
            line += " %11s" % fmt(res[k + ("walk",)], ".0f")
            print(line)

    per = bpf_table(os.path.join(os.path.dirname(path), "bpfstats.tsv"), keys)
    pooled(res, keys, others, per)
    budget_table(res, keys, others)

    print("\nDetails: ratio median [min..max] over n rounds; ns/event from CPU"
          " time and\nfrom wall time (throughput)\n")
    for k in keys:
        for v in others:
            d = res[k + (v,)]
            print("%-8s %-4s %-13s n=%d %s [%s..%s] cpu %s wall %s%s%s"
                  % (k[0], k[1], v, d["n"], fmt(d["ratio"], ".3f"),
                     fmt(d["min"], ".3f"), fmt(d["max"], ".3f"),
                     fmt(d["ns_cpu"], ".0f"), fmt(d["ns_wall"], ".0f"),
                     " ev/op %s" % fmt(d["ev_op"], ".2f")
                     if d["ev_op"] is not None else "",
                     "  FAILED %d" % failed[(k, v)] if failed[(k, v)] else ""))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
