"""tools/k8s without a cluster: tools/k8s/lint.py (yamllint, the manifests
against the API fields they use and what goleaktrace needs of them,
shellcheck, the Dockerfile), the DaemonSet's metrics port, liveness probe
and arguments, the image's runtime packages against what ldd says the
normal build needs (no docker here to build the image), and the
kubectl-goleaktrace plugin against a fake kubectl that records its calls:
it finds the pod's node, runs goleaktrace --pod there with kubectl debug
--profile=sysadmin, passes the exit status through and deletes the debug
pod."""
import json
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


def load_yaml(path):
    """The documents of a YAML file, through Debian's python3 (yaml)."""
    p = subprocess.run([PYTHON, "-c", "import json, sys, yaml; print(json."
                        "dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
                        path], capture_output=True, text=True, timeout=30,
                       check=True)
    return [d for d in json.loads(p.stdout) if d is not None]


def check_daemonset(tap):
    ds = load_yaml(os.path.join(K8S, "daemonset.yaml"))[0]
    tmpl = ds["spec"]["template"]
    c = tmpl["spec"]["containers"][0]
    tap.eq(c["args"], ["--all", "--json", "--host-root", "/host", "-t", "5m",
                       "-i", "1m", "--metrics", ":9431"],
           "daemonset: --all, JSON lines and --metrics :9431")
    tap.eq(c.get("ports"), [{"name": "metrics", "containerPort": 9431,
                             "protocol": "TCP"}],
           "daemonset: container port 9431 named metrics")
    # /healthz fails after 3 x 1m + 10 s without a report: the probe
    # only has to notice that, never to race the first report.
    tap.eq(c.get("livenessProbe"), {
        "httpGet": {"path": "/healthz", "port": "metrics"},
        "initialDelaySeconds": 30, "periodSeconds": 30, "timeoutSeconds": 5,
        "failureThreshold": 3}, "daemonset: liveness probe on /healthz")
    tap.eq(tmpl["metadata"].get("annotations"),
           {"prometheus.io/scrape": "true", "prometheus.io/port": "9431"},
           "daemonset: prometheus.io scrape annotations")


def runtime_packages():
    """The runtime stage of the Dockerfile: its FROM image and the
    packages its apt-get install names."""
    with open(os.path.join(K8S, "Dockerfile")) as f:
        text = f.read().replace("\\\n", " ")
    lines = [line.split() for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    last = max(i for i, w in enumerate(lines) if w[0] == "FROM")
    pkgs = []
    for w in lines[last:]:
        if w[0] == "RUN" and "install" in w:
            rest = w[w.index("install") + 1:]
            rest = rest[:rest.index("&&")] if "&&" in rest else rest
            pkgs += [x for x in rest if not x.startswith("-")]
    return lines[last][1], pkgs


def package_of(path):
    """The Debian package that ships this library (dpkg -S; /lib and
    /usr/lib are the same directory on a merged-/usr system)."""
    p = subprocess.run(["dpkg", "-S", "*/" + os.path.basename(path)],
                       capture_output=True, text=True, timeout=30)
    unmerged = re.sub(r"^/usr/", "/", path)
    for line in p.stdout.splitlines():
        pkg, _, file = line.partition(": ")
        if re.sub(r"^/usr/", "/", file) == unmerged:
            return pkg.split(":")[0]
    return None


def check_image(tap):
    binary = os.path.join(ROOT, "goleaktrace")
    image, pkgs = runtime_packages()
    with open("/etc/os-release") as f:
        codename = re.search(r"^VERSION_CODENAME=(\w+)", f.read(), re.M)
    if not os.access(binary, os.X_OK):
        tap.skip("image libraries: ./goleaktrace is not built (make)")
        return
    if not codename or not image.startswith("debian:" + codename.group(1)):
        tap.skip("image libraries: this machine is not %s, whose package "
                 "names the Dockerfile uses" % image)
        return
    out = subprocess.run(["ldd", binary], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    libs = dict(re.findall(r"^\s*(\S+) => (/\S+)", out, re.M))
    needed = re.findall(r"NEEDED\s+(\S+)", subprocess.run(
        ["objdump", "-p", binary], capture_output=True, text=True,
        timeout=30, check=True).stdout)
    owner = {so: package_of(path) for so, path in libs.items()}
    tap.ok(libs and all(owner.values()) and set(needed) <= set(libs),
           "image libraries: dpkg -S finds the package of every library "
           "ldd ./goleaktrace lists", owner)
    # libc6 is in every Debian image; the others must be named, not
    # left to another package's dependencies.
    unnamed = sorted({owner.get(so) for so in needed} - set(pkgs) -
                     {"libc6"})
    tap.eq(unnamed, [], "image libraries: the Dockerfile installs the "
           "package of each library goleaktrace links (%s)" %
           ", ".join(needed))
    p = subprocess.run(["apt-cache", "depends", "--recurse",
                        "--no-recommends", "--no-suggests", "--no-conflicts",
                        "--no-breaks", "--no-replaces", "--no-enhances"] +
                       pkgs, capture_output=True, text=True, timeout=60)
    closure = {line.split(":")[0] for line in p.stdout.splitlines()
               if line and not line[0].isspace()}
    if p.returncode != 0:
        tap.skip("image libraries: apt-cache depends failed: " +
                 p.stderr.strip())
        return
    tap.eq(sorted(set(owner.values()) - closure), [],
           "image libraries: %s and their dependencies hold all %d "
           "libraries ldd lists" % (" ".join(pkgs), len(libs)))


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
        check_daemonset(tap)
    check_image(tap)
    check_plugin(tap)
    tap.done()


if __name__ == "__main__":
    main()
