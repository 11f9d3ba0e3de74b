"""tools/k8s without a cluster: tools/k8s/lint.py (yamllint, the manifests
against the API fields they use and what goleaktrace needs of them,
shellcheck, the Dockerfile), and the kubectl-goleaktrace plugin against a
fake kubectl that records its calls: it finds the pod's node, runs
goleaktrace --pod there with kubectl debug --profile=sysadmin, passes the
exit status through and deletes the debug pod."""
import os
import re
import subprocess
import tempfile

from glt import ROOT, TOOL, Tap

K8S = os.path.join(ROOT, "tools", "k8s")
PLUGIN = os.path.join(K8S, "kubectl-goleaktrace")
# Debian's python3: python3-yaml comes with yamllint (tools/setup.sh).
PYTHON = "/usr/bin/python3"

FAKE_KUBECTL = r"""#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case $1 in
config) echo "$FAKE_CONTEXT_NS" ;;
get) echo "$FAKE_NODE" ;;
debug)
	echo "Creating debugging pod node-debugger-$FAKE_NODE-x7k2p with" \
		"container debugger on node $FAKE_NODE." >&2
	echo "goleaktrace's report"
	exit 3 ;;
esac
"""


def check_lint(tap):
    p = subprocess.run([PYTHON, os.path.join(K8S, "lint.py"), TOOL],
                       capture_output=True, text=True, timeout=120)
    n = 0
    for line in p.stdout.splitlines():
        m = re.match(r"^(not )?ok \d+ - (.*)$", line)
        if m:
            n += 1
            tap.ok(not m.group(1), "lint: " + m.group(2))
        elif line.startswith("#"):
            print(line)
    tap.ok(n > 0 and p.returncode == 0, "lint: ran, exit status 0",
           p.stdout[-2000:] + p.stderr)


def plugin(tmp, argv, node="node-7", context_ns="shop"):
    log = os.path.join(tmp, "calls")
    if os.path.exists(log):
        os.unlink(log)
    env = dict(os.environ, PATH=tmp + ":" + os.environ["PATH"],
               FAKE_LOG=log, FAKE_NODE=node, FAKE_CONTEXT_NS=context_ns)
    env.pop("GOLEAKTRACE_IMAGE", None)
    p = subprocess.run([PLUGIN] + argv, capture_output=True, text=True,
                       env=env, stdin=subprocess.DEVNULL, timeout=30)
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    return p.returncode, p.stdout, p.stderr, calls


def check_plugin(tap):
    with tempfile.TemporaryDirectory(prefix="glt-kubectl-") as tmp:
        fake = os.path.join(tmp, "kubectl")
        with open(fake, "w") as f:
            f.write(FAKE_KUBECTL)
        os.chmod(fake, 0o755)

        rc, out, err, calls = plugin(tmp, ["checkout-7d9f", "-c", "app",
                                           "--image", "reg/glt:0.1", "--",
                                           "-t", "1m", "-d", "10m"])
        tap.eq(calls, [
            "config view --minify -o jsonpath={..namespace}",
            "get pod -n shop checkout-7d9f -o jsonpath={.spec.nodeName}",
            "debug node/node-7 -i --profile=sysadmin --image=reg/glt:0.1 "
            "-- goleaktrace --host-root /host --pod shop/checkout-7d9f "
            "-c app -t 1m -d 10m",
            "delete pod node-debugger-node-7-x7k2p --wait=false"],
            "plugin: context namespace, the pod's node, kubectl debug "
            "there, then the debug pod deleted")
        tap.eq((rc, out), (3, "goleaktrace's report\n"),
               "plugin: goleaktrace's output and exit status pass through")
        tap.ok("Creating debugging pod" in err, "plugin: kubectl's "
               "messages still shown", err)

        rc, _, _, calls = plugin(tmp, ["-n", "kube-system", "etcd-1",
                                       "--image=reg/glt:0.1"])
        tap.eq(calls[:1], ["get pod -n kube-system etcd-1 -o "
                           "jsonpath={.spec.nodeName}"],
               "plugin: -n NAMESPACE is used as given")
        tap.ok(len(calls) == 3 and calls[1].endswith(
            "-- goleaktrace --host-root /host --pod kube-system/etcd-1"),
            "plugin: no -c, no extra options", calls)

        rc, _, err, calls = plugin(tmp, ["pending-pod", "--image", "x"],
                                   node="")
        tap.ok(rc == 1 and "is not scheduled on a node" in err and
               not any(c.startswith("debug") for c in calls),
               "plugin: an unscheduled pod: exit 1, no debug pod", err)
        rc, _, err, calls = plugin(tmp, ["checkout-7d9f"])
        tap.ok(rc == 1 and "no image" in err and not calls,
               "plugin: no image: exit 1 before any kubectl call", err)
        for argv in [[], ["a", "b"], ["--bogus", "a"], ["-n"]]:
            rc, _, err, calls = plugin(tmp, argv + ["--image", "x"]
                                       if argv != ["-n"] else argv)
            tap.ok(rc == 2 and "kubectl goleaktrace" in err and not calls,
                   "plugin: usage error %r: exit 2, usage shown" % argv, err)


def main():
    tap = Tap()
    if not os.path.exists(PYTHON):
        tap.ok(False, "Debian's python3 is installed (tools/setup.sh)")
    else:
        check_lint(tap)
    check_plugin(tap)
    tap.done()


if __name__ == "__main__":
    main()
