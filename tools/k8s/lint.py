#!/usr/bin/python3
"""Checks tools/k8s without a cluster, as TAP lines ("ok N - what"); exit
status 1 if any check fails. Debian packages no schema-aware Kubernetes
linter (kubeconform, kube-linter), so: yamllint -s on the manifests,
shellcheck on the plugin, and the manifests against a small schema of the
API fields they use (unknown or mistyped fields fail, as the API server's
strict field validation would) plus what goleaktrace needs of them: the
host's PID namespace, its privileges, /var/log read-only under the
--host-root its arguments give, options goleaktrace knows.
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
PLUGIN = "kubectl-goleaktrace"
# What tracing needs without privileged: true (README, Privileges).
CAPS = {"BPF", "PERFMON", "SYS_PTRACE", "SYS_ADMIN"}
KNOWN_CAPS = CAPS | {"ALL", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH",
                     "FOWNER", "KILL", "NET_ADMIN", "NET_RAW", "SETGID",
                     "SETUID", "SYS_CHROOT", "SYS_RESOURCE"}


class Enum:
    def __init__(self, *values):
        self.values = values


class Map:
    """A map of strings to values of one type (labels, quantities)."""

    def __init__(self, value):
        self.value = value


QUANTITY = re.compile(r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
META = {"name": str, "namespace": str, "labels": Map(str)}
MOUNT = {"name": str, "mountPath": str, "readOnly": bool}
VOLUME = {"name": str,
          "hostPath": {"path": str,
                       "type": Enum("", "Directory", "DirectoryOrCreate",
                                    "File", "FileOrCreate", "Socket")}}
PROFILE = {"type": Enum("RuntimeDefault", "Unconfined", "Localhost")}
CONTAINER = {
    "name": str, "image": str, "command": [str], "args": [str],
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
            "spec.template.spec.volumes[]": ["name"]}


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
            errs.append("%s: %r is not a quantity" % (path, value))
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


def check_dockerfile(tap):
    path = os.path.join(HERE, "Dockerfile")
    with open(path) as f:
        lines = [line.split() for line in f if line.strip() and
                 not line.startswith("#")]
    froms = [w[1] for w in lines if w[0] == "FROM"]
    tap.ok(froms and all(f.startswith("debian:") for f in froms),
           "Dockerfile: Debian-based", froms)
    srcs = [src for w in lines if w[0] == "COPY" and
            not w[1].startswith("--from") for src in w[1:-1]]
    missing = [s for s in srcs if not os.path.exists(os.path.join(ROOT, s))]
    tap.ok(srcs and not missing, "Dockerfile: every COPY source exists",
           missing)
    tap.ok(any(w[0] == "RUN" and "static" in w for w in lines) and
           any(w[0] == "COPY" and "/src/goleaktrace-static" in w
               for w in lines), "Dockerfile: ships the make static build")


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
