"""adminlib.py - helpers of the admin API tests (admin.py, livepage.py),
beside the harness lib.py: HTTP requests to the admin API with any Host
and Authorization header, a strict reader of the Prometheus text format,
headless Chromium, and a proxy started with --admin.
"""
import http.client
import json
import os
import re
import shutil
import subprocess

import lib

WEB_ROOT = os.path.join(lib.TOP_SRCDIR, "web")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--no-first-run",
                  "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--mute-audio"]


class Admin:
    """The admin API of one running proxy."""

    def __init__(self, port, token=None):
        self.port = port
        self.token = token
        self.base = f"http://127.0.0.1:{port}"

    def request(self, path, method="GET", headers=None, token=None):
        """(status, headers dict with lower-case names, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        hdrs = dict(headers or {})
        tok = token if token is not None else self.token
        if tok:
            hdrs.setdefault("Authorization", f"Bearer {tok}")
        try:
            c.request(method, path, headers=hdrs)
            r = c.getresponse()
            body = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body
        finally:
            c.close()

    def get_json(self, path):
        status, _, body = self.request(path)
        if status != 200:
            raise lib.TestFailure(f"GET {path}: {status} {body[:200]!r}")
        return json.loads(body)

    def metrics(self):
        status, hdrs, body = self.request("/metrics")
        if status != 200:
            raise lib.TestFailure(f"GET /metrics: {status}")
        return hdrs, body.decode("utf-8")


def start_proxy(h, broker, name="proxy", admin=None, token_file=None,
                extra=None, **kw):
    """lib's start_proxy with the admin API on a free loopback port and
    the live page from the source tree; the proxy and its Admin."""
    port = lib.free_port()
    conf = {"admin_listen": f"127.0.0.1:{port}", "web_root": WEB_ROOT}
    if admin is not None:
        conf["admin"] = admin
    if token_file:
        conf["admin_token_file"] = token_file
    conf.update(extra or {})
    px = h.start_proxy(broker, name=name, extra=conf, **kw)
    return px, Admin(port)


# ---- the Prometheus text format, read strictly ----

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(\{{(.*)\}})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def _unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n"
                  else m.group(1), v)


def parse_prometheus(text):
    """{name: {frozenset(labels.items()): value}} and the list of problems
    a strict reading found (the format's grammar, HELP and TYPE once per
    family and before its samples, samples of the declared family)."""
    out, problems, typed, helped = {}, [], {}, set()
    family = None
    if not text.endswith("\n"):
        problems.append("the text does not end with a newline")
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in helped:
                problems.append(f"line {n}: second HELP for {name}")
            helped.add(name)
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in ("counter", "gauge",
                                                   "histogram", "summary",
                                                   "untyped"):
                problems.append(f"line {n}: bad TYPE line {line!r}")
                continue
            if parts[2] in typed:
                problems.append(f"line {n}: second TYPE for {parts[2]}")
            if parts[2] not in helped:
                problems.append(f"line {n}: TYPE before HELP: {parts[2]}")
            typed[parts[2]] = parts[3]
            family = parts[2]
            continue
        if line.startswith("#") or not line:
            problems.append(f"line {n}: unexpected {line!r}")
            continue
        m = _SAMPLE.match(line)
        if not m:
            problems.append(f"line {n}: not a sample: {line!r}")
            continue
        name, body, value = m.group(1), m.group(3), m.group(4)
        labels = {}
        if body:
            pos = 0
            while pos < len(body):
                lm = _LABEL.match(body, pos)
                if not lm:
                    problems.append(f"line {n}: bad labels {body!r}")
                    break
                labels[lm.group(1)] = _unescape(lm.group(2))
                pos = lm.end()
        base = family or ""
        if typed.get(family) == "histogram":
            ok = name in (base + "_bucket", base + "_sum", base + "_count")
        else:
            ok = name == base
        if not ok:
            problems.append(f"line {n}: {name} outside its family {family}")
        try:
            v = float(value)
        except ValueError:
            problems.append(f"line {n}: bad value {value!r}")
            continue
        out.setdefault(name, {})[frozenset(labels.items())] = v
    return out, problems


def series(metrics, name, **labels):
    """The value of the one sample of name whose labels include these;
    None if there is none."""
    hits = [v for k, v in metrics.get(name, {}).items()
            if all((a, b) in k for a, b in labels.items())]
    if len(hits) > 1:
        raise lib.TestFailure(f"{name} {labels}: {len(hits)} samples")
    return hits[0] if hits else None


def by_label(metrics, name, *keys):
    """{tuple of the keys' label values: value} over all samples of name."""
    out = {}
    for k, v in metrics.get(name, {}).items():
        d = dict(k)
        out[tuple(d.get(x) for x in keys)] = v
    return out


# ---- Chromium ----

def chromium_path():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


def chromium(h, args, timeout=90):
    """Run headless Chromium with a fresh profile; its standard output."""
    prof = os.path.join(h.dir, f"chromium-profile-{len(os.listdir(h.dir))}")
    argv = [chromium_path()] + CHROMIUM_FLAGS + [f"--user-data-dir={prof}"] \
        + args
    h.log("chromium " + " ".join(args))
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if r.returncode != 0:
        raise lib.TestFailure(f"chromium {' '.join(args)}: status "
                              f"{r.returncode}: {r.stderr.decode()[-800:]}")
    return r.stdout.decode("utf-8", "replace")


def png_size(path):
    """(width, height) of a PNG file, or None if it is not one."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24],
                                                              "big")


def save_doc_image(h, src, name):
    """Copy a screenshot to $KC_DOC_IMG (doc/img when refreshing the
    documentation's pictures), if that is set."""
    dst_dir = os.environ.get("KC_DOC_IMG")
    if dst_dir:
        os.makedirs(dst_dir, exist_ok=True)
        shutil.copyfile(src, os.path.join(dst_dir, name))
        h.log(f"wrote {os.path.join(dst_dir, name)}")
