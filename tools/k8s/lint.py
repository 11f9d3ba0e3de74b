#!/usr/bin/python3
"""Checks tools/k8s without a cluster, as TAP lines ("ok N - what"); exit
status 1 if any check fails. Debian packages no schema-aware Kubernetes
linter (kubeconform, kube-linter), so: yamllint -s on the manifests,
shellcheck on the plugin, and the manifests against a small schema of the
API fields they use (unknown or mistyped fields fail, as the API server's
strict field validation would) plus what goleaktrace needs of them: the
host's PID namespace, its privileges, /var/log read-only under the
--host-root its arguments give, options goleaktrace knows; with
--metrics, a named container port, a liveness probe on /healthz and
scrape annotations that all agree with it, and tools/prometheus/
kubernetes.yml's scrape job keeping that port; the Dockerfile ships the
build that has --metrics in a slim Debian image.
    tools/k8s/lint.py [GOLEAKTRACE]   (default ./goleaktrace, if built)
Runs under Debian's python3 (python3-yaml comes with yamllint)."""
import os
import re
import shutil
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MANIFESTS = ["job.yaml", "daemonset.yaml"]
SCRAPE = os.path.join(ROOT, "tools", "prometheus", "kubernetes.yml")
PLUGIN = "kubectl-goleaktrace"
# What tracing needs without privileged: true (README, Privileges).
CAPS = {"BPF", "PERFMON", "SYS_PTRACE", "SYS_ADMIN"}
KNOWN_CAPS = CAPS | {"ALL", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH",
                     "FOWNER", "KILL", "NET_ADMIN", "NET_RAW", "SETGID",
                     "SETUID", "SYS_CHROOT", "SYS_RESOURCE"}


class Enum:
    def __init__(self, *values):
        self.values = values


class IntOrString:
    """A port: a number, or the name of a container port."""


class Map:
    """A map of strings to values of one type (labels, quantities)."""

    def __init__(self, value):
        self.value = value


QUANTITY = re.compile(r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
# A port's name (IANA_SVC_NAME): what a probe or a scrape job refers to.
PORT_NAME = re.compile(r"^(?=.{1,15}$)[a-z0-9]+(-[a-z0-9]+)*$")
# Annotations are strings: an unquoted 9431 or true is refused.
META = {"name": str, "namespace": str, "labels": Map(str),
        "annotations": Map(str)}
MOUNT = {"name": str, "mountPath": str, "readOnly": bool}
VOLUME = {"name": str,
          "hostPath": {"path": str,
                       "type": Enum("", "Directory", "DirectoryOrCreate",
                                    "File", "FileOrCreate", "Socket")}}
PROFILE = {"type": Enum("RuntimeDefault", "Unconfined", "Localhost")}
PORT = {"name": PORT_NAME, "containerPort": int, "hostPort": int,
        "protocol": Enum("TCP", "UDP", "SCTP")}
PROBE = {"httpGet": {"path": str, "port": IntOrString,
                     "scheme": Enum("HTTP", "HTTPS")},
         "initialDelaySeconds": int, "periodSeconds": int,
         "timeoutSeconds": int, "successThreshold": int,
         "failureThreshold": int}
CONTAINER = {
    "name": str, "image": str, "command": [str], "args": [str],
    "ports": [PORT], "livenessProbe": PROBE,
    "securityContext": {"privileged": bool,
                        "capabilities": {"add": [str], "drop": [str]},
                        "seccompProfile": PROFILE,
                        "appArmorProfile": PROFILE},
    "resources": {"requests": Map(QUANTITY), "limits": Map(QUANTITY)},
    "volumeMounts": [MOUNT],
}
POD_SPEC = {
    "nodeName": str, "hostPID": bool,
    "restartPolicy": Enum("Always", "OnFailure", "Never"),
    "tolerations": [{"key": str, "operator": Enum("Exists", "Equal"),
                     "value": str,
                     "effect": Enum("NoSchedule", "PreferNoSchedule",
                                    "NoExecute")}],
    "containers": [CONTAINER], "volumes": [VOLUME],
}
TEMPLATE = {"metadata": META, "spec": POD_SPEC}
SCHEMAS = {
    ("batch/v1", "Job"): {
        "apiVersion": str, "kind": str, "metadata": META,
        "spec": {"backoffLimit": int, "ttlSecondsAfterFinished": int,
                 "template": TEMPLATE}},
    ("apps/v1", "DaemonSet"): {
        "apiVersion": str, "kind": str, "metadata": META,
        "spec": {"selector": {"matchLabels": Map(str)},
                 "template": TEMPLATE}},
}
REQUIRED = {"": ["apiVersion", "kind", "metadata", "spec"],
            "metadata": ["name"], "spec.template.spec": ["containers"],
            "spec.template.spec.containers[]": ["name", "image"],
            "spec.template.spec.volumes[]": ["name"],
            "spec.template.spec.containers[].ports[]": ["containerPort"],
            "spec.template.spec.containers[].livenessProbe": ["httpGet"],
            "spec.template.spec.containers[].livenessProbe.httpGet":
            ["port"]}


def schema_errors(value, schema, path=""):
    """Where value does not fit schema: unknown fields, wrong types,
    missing required fields."""
    errs = []
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return ["%s: not an object" % (path or "document")]
        for key in REQUIRED.get(re.sub(r"\[\d+\]", "[]", path), []):
            if key not in value:
                errs.append("%s: %s is required" % (path or "document", key))
        for key, v in value.items():
            sub = "%s.%s" % (path, key) if path else key
            if key not in schema:
                errs.append("%s: unknown field" % sub)
            else:
                errs += schema_errors(v, schema[key], sub)
    elif isinstance(schema, list):
        if not isinstance(value, list) or not value:
            return ["%s: not a non-empty list" % path]
        for i, v in enumerate(value):
            errs += schema_errors(v, schema[0], "%s[%d]" % (path, i))
    elif isinstance(schema, Map):
        if not isinstance(value, dict):
            return ["%s: not a map" % path]
        for k, v in value.items():
            errs += schema_errors(v, schema.value, "%s.%s" % (path, k))
    elif isinstance(schema, Enum):
        if value not in schema.values:
            errs.append("%s: %r is not one of %s" % (path, value,
                                                     schema.values))
    elif isinstance(schema, re.Pattern):
        if not isinstance(value, str) or not schema.match(value):
            errs.append("%s: %r does not match %s" % (path, value,
                                                      schema.pattern))
    elif schema is IntOrString:
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            errs.append("%s: not an integer or a string" % path)
    elif schema is int:
        if not isinstance(value, int) or isinstance(value, bool):
            errs.append("%s: not an integer" % path)
    elif not isinstance(value, schema):
        errs.append("%s: not a %s" % (path, schema.__name__))
    return errs


def tool_options(tool):
    """The long and short options goleaktrace --help lists."""
    out = subprocess.run([tool, "--help"], capture_output=True, text=True,
                         check=True).stdout
    opts = set()
    for m in re.finditer(r"^\s+(?:(-\w), )?(--[\w-]+)", out, re.M):
        opts.update(o for o in m.groups() if o)
    return opts


class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def ok(self, cond, what, detail=""):
        self.n += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, what))
        if not cond:
            self.failed += 1
            for line in str(detail).splitlines():
                print("#   " + line)
        return cond


def option_value(args, opt):
    """The value of OPT VALUE or OPT=VALUE in args, else None."""
    for i, a in enumerate(args):
        if a == opt and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(opt + "="):
            return a[len(opt) + 1:]
    return None


def check_metrics(tap, name, doc, c, addr):
    """--metrics HOST:PORT: the container port, the liveness probe and the
    scrape annotations agree with it."""
    port = addr.rpartition(":")[2]
    port = int(port) if port.isdigit() else None
    if not tap.ok(port, name + ": --metrics HOST:PORT has a port", addr):
        return
    ports = [p for p in c.get("ports", []) if p.get("containerPort") == port]
    named = ports[0].get("name") if len(ports) == 1 else None
    tap.ok(named, name + ": --metrics port %d is a named container port" %
           port, c.get("ports"))
    get = c.get("livenessProbe", {}).get("httpGet", {})
    tap.ok(get.get("path") == "/healthz" and get.get("port") in
           (port, named or port), name + ": liveness probe: /healthz on the "
           "metrics port", c.get("livenessProbe"))
    ann = doc["spec"]["template"].get("metadata", {}).get("annotations", {})
    scrape = {k: v for k, v in ann.items() if k.startswith("prometheus.io/")}
    if scrape:
        tap.ok(scrape.get("prometheus.io/scrape") == "true" and
               scrape.get("prometheus.io/port") == str(port) and
               scrape.get("prometheus.io/path", "/metrics") == "/metrics",
               name + ": prometheus.io/ annotations name the metrics port",
               scrape)


def relabel_keeps(rules, labels):
    """Whether Prometheus's keep and drop relabel rules keep a target
    with these labels (source labels joined with ";", regex anchored)."""
    for r in rules:
        action = r.get("action", "replace")
        if action not in ("keep", "drop"):
            continue
        value = ";".join(labels.get(k, "") for k in r["source_labels"])
        hit = re.fullmatch(r.get("regex", "(.*)"), value) is not None
        if hit != (action == "keep"):
            return False
    return True


def check_scrape(tap, name, doc):
    """tools/prometheus/kubernetes.yml's pod scrape job keeps the
    DaemonSet's metrics port, and only that port."""
    with open(SCRAPE) as f:
        jobs = [j for j in yaml.safe_load(f).get("scrape_configs", [])
                if any(sd.get("role") == "pod"
                       for sd in j.get("kubernetes_sd_configs", []))]
    where = os.path.relpath(SCRAPE, ROOT)
    if not tap.ok(len(jobs) == 1, where + ": one pod scrape job"):
        return
    job = jobs[0]
    tmpl = doc["spec"]["template"]
    c = tmpl["spec"]["containers"][0]
    ns = doc["metadata"].get("namespace", "default")
    sds = [sd for sd in job["kubernetes_sd_configs"] if ns in
           sd.get("namespaces", {}).get("names", [ns])]
    # The labels Kubernetes discovery gives each of the pod's ports.
    pod = {"__meta_kubernetes_namespace": ns}
    for k, v in tmpl.get("metadata", {}).get("labels", {}).items():
        pod["__meta_kubernetes_pod_label_" + re.sub(r"\W", "_", k)] = v
    for k, v in tmpl.get("metadata", {}).get("annotations", {}).items():
        pod["__meta_kubernetes_pod_annotation_" + re.sub(r"\W", "_", k)] = v
    kept = [p.get("name", "") for p in c.get("ports", []) if relabel_keeps(
        job.get("relabel_configs", []), dict(
            pod, __meta_kubernetes_pod_container_port_name=p.get("name", ""),
            __meta_kubernetes_pod_container_port_number=str(
                p["containerPort"])))]
    tap.ok(sds and kept == ["metrics"] and job.get("honor_labels") is True,
           "%s: %s scrapes %s's port metrics, with honor_labels" %
           (where, job.get("job_name"), name), (len(sds), kept))


def check_pod(tap, name, doc, options):
    kind = doc.get("kind")
    spec = doc["spec"]["template"]["spec"]
    c = spec["containers"][0]
    tap.ok(len(spec["containers"]) == 1 and c.get("command") ==
           ["goleaktrace"], name + ": one container, runs goleaktrace",
           c.get("command"))
    tap.ok(spec.get("hostPID") is True, name + ": hostPID: true (the "
           "node's processes in /proc)")
    sc = c.get("securityContext", {})
    caps = set(sc.get("capabilities", {}).get("add", []))
    tap.ok(sc.get("privileged") is True or CAPS <= caps,
           name + ": privileged, or " + ", ".join(sorted(CAPS)), sc)
    tap.ok(caps <= KNOWN_CAPS and not any(x.startswith("CAP_") for x in caps),
           name + ": capability names as Kubernetes spells them", caps)
    if caps and not sc.get("privileged"):
        tap.ok(sc.get("seccompProfile", {}).get("type") == "Unconfined",
               name + ": seccomp lets bpf() through without privileged")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = c.get("volumeMounts", [])
    tap.ok(all(m["name"] in volumes for m in mounts) and
           {m["name"] for m in mounts} == set(volumes),
           name + ": every mount has its volume and every volume a mount")
    args = c.get("args", [])
    root = args[args.index("--host-root") + 1] \
        if "--host-root" in args[:-1] else "/"
    varlog = [m for m in mounts if
              volumes[m["name"]].get("hostPath", {}).get("path") ==
              "/var/log"]
    tap.ok(len(varlog) == 1 and varlog[0]["mountPath"] ==
           os.path.join(root, "var/log") and varlog[0].get("readOnly"),
           name + ": the node's /var/log read-only at --host-root %s" % root,
           varlog)
    if options:
        unknown = [a for a in args if a.startswith("-") and
                   a.split("=")[0] not in options]
        tap.ok(not unknown, name + ": goleaktrace knows every option",
               unknown)
    if kind == "Job":
        tap.ok(spec.get("restartPolicy") in ("Never", "OnFailure"),
               name + ": a Job's pod does not restart")
        tap.ok(bool(spec.get("nodeName")), name + ": pinned to a node "
               "(nodeName)")
        tap.ok("--pod" in args, name + ": traces one pod (--pod)")
    else:
        sel = doc["spec"]["selector"]["matchLabels"]
        labels = doc["spec"]["template"].get("metadata", {}).get("labels",
                                                                 {})
        tap.ok(sel and all(labels.get(k) == v for k, v in sel.items()),
               name + ": the selector matches the pod template's labels")
        tap.ok(spec.get("restartPolicy", "Always") == "Always",
               name + ": restartPolicy Always")
        tap.ok("--all" in args, name + ": watches every Go process (--all)")
        tap.ok(option_value(args, "--metrics") is not None,
               name + ": serves Prometheus metrics (--metrics)")
        check_scrape(tap, name, doc)
    addr = option_value(args, "--metrics")
    if addr is not None:
        check_metrics(tap, name, doc, c, addr)


def dockerfile_instructions(path):
    """The words of each instruction, continuation lines joined."""
    out, cur = [], ""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#") or not (line or cur):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            out.append((cur + line).split())
            cur = ""
    return out + ([cur.split()] if cur.strip() else [])


def check_dockerfile(tap):
    lines = dockerfile_instructions(os.path.join(HERE, "Dockerfile"))
    froms = [w[1] for w in lines if w[0] == "FROM"]
    tap.ok(froms and all(f.startswith("debian:") for f in froms),
           "Dockerfile: Debian-based", froms)
    srcs = [src for w in lines if w[0] == "COPY" and
            not w[1].startswith("--from") for src in w[1:-1]]
    missing = [s for s in srcs if not os.path.exists(os.path.join(ROOT, s))]
    tap.ok(srcs and not missing, "Dockerfile: every COPY source exists",
           missing)
    # make static has no --metrics, which daemonset.yaml serves.
    tap.ok(any(w[0] == "RUN" and "make" in " ".join(w) and
               not any("static" in x for x in w) for w in lines) and
           any(w[0] == "COPY" and "/src/goleaktrace" in w for w in lines),
           "Dockerfile: ships the normal build (make), which has --metrics")
    last = max(i for i, w in enumerate(lines) if w[0] == "FROM")
    runtime = lines[last]
    tap.ok(re.fullmatch(r"debian:\w+-slim", runtime[1]),
           "Dockerfile: the runtime stage is a slim Debian", runtime)
    installs = [w for w in lines[last:] if w[0] == "RUN" and
                "install" in w and any("apt-get" in x for x in w)]
    tap.ok(len(installs) == 1 and "--no-install-recommends" in installs[0]
           and "/var/lib/apt/lists/*" in installs[0] and
           not any(x.endswith("-dev") for x in installs[0]),
           "Dockerfile: the runtime stage installs runtime libraries only, "
           "without recommends, and removes apt's lists", installs)


def main():
    tap = Tap()
    tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT,
                                                               "goleaktrace")
    options = tool_options(tool) if os.access(tool, os.X_OK) else None
    for name in MANIFESTS:
        path = os.path.join(HERE, name)
        p = subprocess.run(["yamllint", "-s", path], capture_output=True,
                           text=True)
        tap.ok(p.returncode == 0, name + ": yamllint -s", p.stdout)
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        if not tap.ok(len(docs) == 1 and isinstance(docs[0], dict),
                      name + ": one object"):
            continue
        doc = docs[0]
        schema = SCHEMAS.get((doc.get("apiVersion"), doc.get("kind")))
        if not tap.ok(schema, name + ": a known apiVersion and kind",
                      (doc.get("apiVersion"), doc.get("kind"))):
            continue
        errs = schema_errors(doc, schema)
        if tap.ok(not errs, name + ": fits the schema of its kind",
                  "\n".join(errs)):
            check_pod(tap, name, doc, options)
    if shutil.which("shellcheck"):
        p = subprocess.run(["shellcheck", os.path.join(HERE, PLUGIN)],
                           capture_output=True, text=True)
        tap.ok(p.returncode == 0, PLUGIN + ": shellcheck", p.stdout)
    else:
        tap.ok(False, PLUGIN + ": shellcheck is installed (tools/setup.sh)")
    check_dockerfile(tap)
    print("1..%d" % tap.n)
    sys.exit(1 if tap.failed else 0)


if __name__ == "__main__":
    main()
