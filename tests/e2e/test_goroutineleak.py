"""Cross-check with Go 1.27's own GC-based goroutineleak profile: every
goroutine the runtime calls leaked must be in our never_wakeable or
likely_leaked classes. The runtime only sees goroutines blocked on
unreachable objects (here: the nil-channel waits and the forgotten
senders); ours also catch the leak on the reachable, never-closed done
channel that motivated goleaktrace. The agreement figures are printed."""
import json
import re
import signal
import time
import urllib.request

from glt import Process, Tap, TOOL, fixture, go_versions, is_root


def leaked_goids(base):
    """Goroutine ids the runtime marks '(leaked)' in a debug=2 dump."""
    with urllib.request.urlopen(base + "goroutineleak?debug=2", timeout=30) as r:
        dump = r.read().decode()
    return {int(m.group(1)) for m in
            re.finditer(r"^goroutine (\d+) \[[^\]]*\(leaked\)", dump, re.M)}


def main():
    tap = Tap()
    if not is_root():
        tap.skip("needs root")
        tap.done()
    if "1.27" not in go_versions():
        tap.skip("Go 1.27 is not in the matrix")
        tap.done()
    zoo = Process([fixture("1.27", "leakzoo"), "-rate", "5", "-pprof"])
    tracer = None
    try:
        m, _ = zoo.wait_line("stdout", r"pprof (http://\S+)")
        base = m.group(1)
        zoo.wait_line("stdout", r"ready pid=(\d+)")
        pid = zoo.p.pid
        time.sleep(2)
        tracer = Process([TOOL, "-p", str(pid), "-t", "1s", "-i", "2s",
                          "-d", "8s", "--json"])
        m, seen = tracer.wait_line("stderr", r"tracing pid")
        tap.ok(m, "attached", "\n".join(seen))
        time.sleep(5)
        runtime_leaked = leaked_goids(base)
        out, err = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, "exit status 0")
        final = [json.loads(l) for l in out.splitlines()
                 if l.startswith("{") and json.loads(l).get("final")]
        ours = {g: grp["class"] for grp in final for g in grp["goids"]}
        leak_classes = ("never_wakeable", "likely_leaked")
        tap.ok(len(runtime_leaked) >= 10,
               "the runtime reports leaked goroutines (%d)" % len(runtime_leaked))
        # Goroutines created after the tracer's last report cannot be in it.
        last = max(ours) if ours else 0
        judged = {g for g in runtime_leaked if g <= last}
        agree = {g for g in judged if ours.get(g) in leak_classes}
        print("# goroutineleak: runtime reports %d, %d of them existed at our"
              " final report; we classify %d of those as leaked (%.0f%%);"
              " we classify %d goroutines as leaked in all"
              % (len(runtime_leaked), len(judged), len(agree),
                 100.0 * len(agree) / max(1, len(judged)),
                 sum(1 for c in ours.values() if c in leak_classes)))
        tap.eq(sorted(judged - agree), [],
               "every goroutine the runtime calls leaked is leaked for us too")
        shared = [grp for grp in final
                  if any(f["function"] == "main.merge.func1" for f in grp["frames"])]
        tap.ok(shared and shared[0]["class"] == "likely_leaked" and
               not set(shared[0]["goids"]) & runtime_leaked,
               "the leak on the reachable done channel: ours, not the runtime's")
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        zoo.stop()
    tap.done()


if __name__ == "__main__":
    main()
