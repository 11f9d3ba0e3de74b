"""--pod NS/NAME on a Kubernetes node, without a cluster: a kubelet-style
tree (var/log/pods/<ns>_<name>_<uid>/<container>/, var/log/containers
links) in a temporary --host-root, and Go fixtures run inside real cgroups
named as containerd (systemd driver: kubepods-...-pod<uid_>.slice/
cri-containerd-<id>.scope, cgroup v2 and v1) and CRI-O (cgroupfs driver:
kubepods/besteffort/pod<uid>/crio-<id>, cgroup v1 where the machine has
it) name them, each pod beside a non-Go "pause" sandbox process.
goleaktrace must resolve the pod to exactly the fixture's process and
report the groups the core test asserts, on every Go version (the two
runtimes alternate). Once: a pod with two Go processes (listed, exit 1),
-c to choose, an unknown container, a pod without Go, a pod not on the
node or without processes, a node without container links, and bad
--pod syntax (exit 2)."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import uuid

from glt import (TOOL, Process, fixture, go_versions, parse_reports,
                 per_version)
from test_core import check_groups

CGROUP = "/sys/fs/cgroup"
SLEEP = shutil.which("sleep")


def hierarchies():
    """(cgroup v2 root or None, a cgroup v1 hierarchy or None) of this
    machine: pure v2 mounts cgroup2 at /sys/fs/cgroup; hybrid and v1 keep
    one mount per controller under a tmpfs there."""
    fs = subprocess.run(["stat", "-fc", "%T", CGROUP], capture_output=True,
                        text=True).stdout.strip()
    if fs == "cgroup2fs":
        return CGROUP, None
    v2 = os.path.join(CGROUP, "unified")
    v1 = os.path.join(CGROUP, "pids")
    return (v2 if os.path.ismount(v2) else None,
            v1 if os.path.ismount(v1) else None)


class Node:
    """A node's records under a temporary host root, and cgroups under a
    test-private parent in each hierarchy; close() removes both."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="glt-node-")
        self.v2, self.v1 = hierarchies()
        self.base = "glt-test-%d" % os.getpid()
        self.cgroups = []
        self.procs = []

    def pod(self, ns, name, containers):
        uid = str(uuid.uuid4())
        for c in containers:
            os.makedirs(os.path.join(self.root, "var/log/pods",
                                     "%s_%s_%s" % (ns, name, uid), c))
        return uid

    def cgroup_dirs(self, runtime, uid, cid):
        """The container's cgroup in each hierarchy the runtime uses."""
        if runtime == "containerd":
            rel = ("kubepods.slice/kubepods-burstable.slice/"
                   "kubepods-burstable-pod%s.slice/cri-containerd-%s.scope"
                   % (uid.replace("-", "_"), cid))
            roots = [r for r in (self.v2, self.v1) if r]
        else:
            rel = "kubepods/besteffort/pod%s/crio-%s" % (uid, cid)
            roots = [self.v1 or self.v2]
        return [os.path.join(r, self.base, rel) for r in roots]

    def start(self, runtime, ns, name, uid, container, argv, link=True):
        """argv as a container of the pod: its cgroups made, the kubelet's
        log link written (unless link is False), started inside them."""
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        dirs = self.cgroup_dirs(runtime, uid, cid)
        for d in dirs:
            os.makedirs(d)
            self.cgroups.append(d)
        if link and container:
            target = "/var/log/pods/%s_%s_%s/%s/0.log" % (ns, name, uid,
                                                          container)
            entry = os.path.join(self.root, "var/log/containers",
                                 "%s_%s_%s-%s.log" % (name, ns, container,
                                                      cid))
            os.makedirs(os.path.dirname(entry), exist_ok=True)
            os.symlink(target, entry)
        script = 'for d in $GLT_CGROUPS; do echo $$ > "$d/cgroup.procs"; ' \
                 'done; exec "$@"'
        p = Process(["sh", "-c", script, "sh"] + argv,
                    env=dict(os.environ, GLT_CGROUPS=" ".join(dirs)))
        self.procs.append(p)
        return p

    def sandbox(self, runtime, ns, name, uid):
        """The pod's sandbox: a non-Go process with no log link."""
        return self.start(runtime, ns, name, uid, None, [SLEEP, "1000"])

    def close(self):
        for p in self.procs:
            p.stop(signal.SIGKILL)
        # Deepest first; a parent goes once its last child is gone.
        for d in self.cgroups:
            while d != os.path.dirname(d):
                if os.path.basename(d) == self.base:
                    try:
                        os.rmdir(d)
                    except OSError:
                        pass
                    break
                try:
                    os.rmdir(d)
                except OSError:
                    break
                d = os.path.dirname(d)
        shutil.rmtree(self.root, ignore_errors=True)


def run_tool(node, argv, timeout=30):
    p = subprocess.run([TOOL, "--host-root", node.root] + argv,
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def ready_pid(tap, what, proc):
    m, seen = proc.wait_line("stdout", r"ready pid=(\d+)")
    tap.ok(m, what + ": fixture started", "\n".join(seen))
    return int(m.group(1)) if m else None


def check_traced(tap, what, node, argv, want_pid, container):
    """goleaktrace --pod resolves to want_pid, names it, attaches; returns
    the tracer, running."""
    tracer = Process([TOOL, "--host-root", node.root] + argv)
    m, seen = tracer.wait_line("stderr", r"tracing pid (\d+)")
    if not tap.ok(m, what + ": attached", "\n".join(seen)):
        return tracer
    tap.eq(int(m.group(1)), want_pid, what + ": traces the pod's Go process")
    said = [line for line in seen if ": pid %d (" % want_pid in line]
    tap.ok(said and said[0].endswith("container %s" % container),
           what + ": says which process and container", "\n".join(seen))
    return tracer


def run_version(tap, version):
    versions = go_versions()
    runtime = ["containerd", "cri-o"][versions.index(version) % 2]
    what = "go%s, %s" % (version, runtime)
    node = Node()
    tracer = None
    try:
        name = "checkout-%s" % version.replace(".", "-")
        uid = node.pod("shop", name, ["app"])
        node.sandbox(runtime, "shop", name, uid)
        zoo = node.start(runtime, "shop", name, uid, "app",
                         [fixture(version, "parkzoo"), "-wake", "1h",
                          "-release", "1h"])
        pid = ready_pid(tap, what, zoo)
        if not pid:
            return
        with open("/proc/%d/cgroup" % pid) as f:
            cg = f.read()
        tap.ok(("pod%s" % uid.replace("-", "_") if runtime == "containerd"
                else "pod%s/crio-" % uid) in cg,
               what + ": fixture runs in the pod's cgroup", cg)
        tracer = check_traced(tap, what, node,
                              ["--pod", "shop/" + name, "-t", "1s", "-i",
                               "1s", "-d", "6s"], pid, "app")
        os.kill(pid, signal.SIGUSR1)
        out, err = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, what + ": exit status 0")
        finals = [r for r in parse_reports(out) if r["final"]]
        if tap.eq(len(finals), 1, what + ": one final report"):
            tap.ok(("pod shop/%s container app," % name)
                   in finals[0]["header"], what + ": report names the pod",
                   finals[0]["header"])
            check_groups(tap, what, version, finals[0])
        else:
            print("# " + (out + err).replace("\n", "\n# "))
        if version == versions[-1]:
            run_cases(tap, version)
            check_all_labels(tap, versions[0], version)
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        node.close()


def check_all_labels(tap, old, new):
    """--all --json: two pods of two Go versions (containerd, CRI-O); every
    JSON line of their processes carries its pod, the rest none."""
    node = Node()
    tracer = None
    try:
        want, uids = {}, {}
        for version, runtime, name in ((old, "containerd", "cart"),
                                       (new, "cri-o", "pay")):
            uid = uids[name] = node.pod("shop", name, ["app"])
            zoo = node.start(runtime, "shop", name, uid, "app",
                             [fixture(version, "parkzoo"), "-wake", "1h",
                              "-release", "1h"])
            pid = ready_pid(tap, "--all " + name, zoo)
            if pid:
                want[pid] = {"namespace": "shop", "name": name,
                             "container": "app"}
        tracer = Process([TOOL, "--host-root", node.root, "--all", "--json",
                          "-t", "1s", "-i", "1s", "-d", "5s"])
        m, seen = tracer.wait_line("stderr", r"watching \d+ Go process")
        if not tap.ok(m, "--all: attached", "\n".join(seen)):
            return
        for pid in want:
            os.kill(pid, signal.SIGUSR1)
        out, _ = tracer.finish(timeout=40)
        tap.eq(tracer.p.returncode, 0, "--all --json: exit status 0")
        lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        for pid, pod in want.items():
            mine = [x for x in lines if x["pid"] == pid]
            tap.ok(len(mine) >= 11, "--all: pid %d reported" % pid, len(mine))
            tap.eq(sorted({json.dumps(x["pod"]) for x in mine}),
                   [json.dumps(pod)], "--all: every line of pid %d names "
                   "pod shop/%s" % (pid, pod["name"]))
        others = {json.dumps(x["pod"]) for x in lines if x["pid"] not in want}
        tap.ok(others <= {"null"}, "--all: processes in no pod have pod null",
               others)
        # --cgroup: only the cart pod's cgroup.
        slice_ = os.path.dirname(node.cgroup_dirs("containerd", uids["cart"],
                                                  "x")[0])
        tracer = Process([TOOL, "--host-root", node.root, "--all", "--json",
                          "--cgroup", slice_,
                          "-t", "1s", "-i", "1s", "-d", "3s"])
        out, err = tracer.finish(timeout=40)
        pids = {json.loads(x)["pid"] for x in out.splitlines()
                if x.startswith("{")}
        cart = [pid for pid, pod in want.items() if pod["name"] == "cart"]
        if not tap.eq(sorted(pids), cart, "--all --cgroup: only the "
                      "processes in that cgroup"):
            print("# " + err.replace("\n", "\n# "))
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        node.close()


def check_several(tap, node, version, pids):
    """Two Go processes in two containers: listed, the user chooses."""
    rc, _, err = run_tool(node, ["--pod", "shop/multi"])
    lines = err.splitlines()
    tap.eq(rc, 1, "several Go processes: exit 1")
    tap.eq(lines[:1], ["goleaktrace: pod shop/multi has 2 Go processes: "
                       "choose one with -p PID or -c CONTAINER"],
           "several Go processes: one line says what to do")
    listed = sorted(lines[1:])
    want = sorted("goleaktrace:   pid %-7d container %-15s %-15s go%s" %
                  (pid, c, comm, version)
                  for c, comm, pid in [("app", "parkzoo", pids["app"]),
                                       ("sidecar", "leakzoo",
                                        pids["sidecar"])])
    tap.eq([line[:len(w)] for line, w in zip(listed, want)], want,
           "several Go processes: pid, container, comm, Go version of each, "
           "not the sandbox")
    tap.eq(len(listed), 2, "several Go processes: nothing else listed")


def run_cases(tap, version):
    node = Node()
    tracer = None
    try:
        # Two Go containers and a sandbox, containerd.
        uid = node.pod("shop", "multi", ["app", "sidecar"])
        node.sandbox("containerd", "shop", "multi", uid)
        pids = {}
        for c, fx, args in [("app", "parkzoo", ["-wake", "1h",
                                                "-release", "1h"]),
                            ("sidecar", "leakzoo", [])]:
            p = node.start("containerd", "shop", "multi", uid, c,
                           [fixture(version, fx)] + args)
            pids[c] = ready_pid(tap, "multi/" + c, p)
        if not all(pids.values()):
            return
        check_several(tap, node, version, pids)

        tracer = check_traced(tap, "-c sidecar", node,
                              ["--pod", "shop/multi", "-c", "sidecar", "-t",
                               "1s", "-i", "1s", "-d", "3s"],
                              pids["sidecar"], "sidecar")
        out, _ = tracer.finish(timeout=30)
        tap.eq(tracer.p.returncode, 0, "-c sidecar: exit status 0")
        finals = [r for r in parse_reports(out) if r["final"]]
        tap.ok(finals and any(g.get("created_func") == "main.merge"
                              for g in finals[0]["groups"]),
               "-c sidecar: leakzoo's leak reported", out)
        tracer = None

        rc, _, err = run_tool(node, ["--pod", "shop/multi", "-c", "db"])
        tap.eq(rc, 1, "unknown container: exit 1")
        tap.eq(err, "goleaktrace: pod shop/multi has no container db: its "
               "containers are app, sidecar\n", "unknown container: one "
               "line, with the pod's containers")

        # A pod whose only container is not Go (CRI-O).
        uid = node.pod("shop", "nogo", ["web"])
        node.sandbox("cri-o", "shop", "nogo", uid)
        web = node.start("cri-o", "shop", "nogo", uid, "web",
                         [SLEEP, "1000"])
        node.start("cri-o", "shop", "nogo", uid, None, [SLEEP, "999"])
        rc, _, err = run_tool(node, ["--pod", "shop/nogo", "-c", "web"])
        lines = err.splitlines()
        tap.eq(rc, 1, "no Go process: exit 1")
        tap.eq(lines[:1], ["goleaktrace: container web of pod shop/nogo runs "
                           "no Go program goleaktrace can trace:"],
               "no Go process: says so")
        tap.ok(len(lines) == 2 and "pid %-7d container web " % web.p.pid
               in lines[1] and lines[1].endswith("not a Go program (no Go "
                                                 "build info found)"),
               "no Go process: lists the container's process and why", err)

        # Not on this node; on it but with no process left.
        rc, _, err = run_tool(node, ["--pod", "shop/absent"])
        tap.ok(rc == 1 and err.startswith("goleaktrace: pod shop/absent is "
                                          "not on this node") and
               err.count("\n") == 1, "pod not on the node: exit 1, one "
               "line", err)
        node.pod("shop", "gone", ["app"])
        rc, _, err = run_tool(node, ["--pod", "shop/gone"])
        tap.ok(rc == 1 and err.startswith("goleaktrace: pod shop/gone has "
                                          "no process in /proc") and
               err.count("\n") == 1, "pod without processes: exit 1, one "
               "line", err)

        # No /var/log/containers link: a one-container pod still names it.
        uid = node.pod("shop", "nolinks", ["main"])
        p = node.start("containerd", "shop", "nolinks", uid, "main",
                       [fixture(version, "leakzoo")], link=False)
        pid = ready_pid(tap, "nolinks", p)
        if pid:
            tracer = check_traced(tap, "no container links", node,
                                  ["--pod", "shop/nolinks", "-d", "1s"],
                                  pid, "main")
            tracer.finish(timeout=30)
            tap.eq(tracer.p.returncode, 0, "no container links: exit 0")
            tracer = None
    finally:
        if tracer:
            tracer.stop(signal.SIGKILL)
        node.close()
    check_usage(tap)


def check_usage(tap):
    for argv, word in [
            (["--pod", "checkout"], "Invalid --pod: checkout"),
            (["--pod", "/checkout"], "Invalid --pod: /checkout"),
            (["--pod", "shop/"], "Invalid --pod: shop/"),
            (["--pod", "shop/checkout/x"], "Invalid --pod: shop/checkout/x"),
            (["--pod", "Shop/checkout"], "Invalid --pod: Shop/checkout"),
            (["--pod", "shop/checkout", "-p", "1"],
             "--pod NS/NAME and -p PID exclude each other"),
            (["-p", "1", "--pod", "shop/checkout"],
             "--pod NS/NAME and -p PID exclude each other"),
            (["--pod", "shop/checkout", "--inspect", "/bin/true"],
             "--pod NS/NAME and --inspect exclude each other"),
            (["-p", "1", "-c", "app"], "-c CONTAINER needs --pod NS/NAME"),
            (["-p", "1", "--cgroup", "/x"], "--cgroup PATH needs --all"),
            (["--all", "--cgroup", "x"], "Invalid --cgroup: x"),
            (["--pod", "shop/checkout", "-c", "App_1"],
             "Invalid container name: App_1"),
            (["--pod", "shop/checkout", "--host-root", ""],
             "Invalid --host-root: empty path")]:
        p = subprocess.run([TOOL] + argv, capture_output=True, text=True,
                           timeout=20)
        what = "usage: goleaktrace %s" % " ".join(argv)
        tap.eq(p.returncode, 2, what + ": exit 2")
        tap.ok(p.stderr.startswith("goleaktrace: " + word),
               what + ": says '%s'" % word, p.stderr)


def main():
    if not SLEEP or not any(hierarchies()):
        from glt import Tap
        tap = Tap()
        tap.skip("needs sleep and a cgroup file system")
        tap.done()
    per_version(run_version)


if __name__ == "__main__":
    main()
