#!/usr/bin/env python3
"""Generate kafka-conntrace's protocol tables from the Apache Kafka message
definitions (the *.json files of clients/src/main/resources/common/message)
and the protocol's error list (code,name CSV).

usage: kp_gen.py MESSAGE_DIR ERRORS_CSV OUT_DIR

Writes OUT_DIR/kp_fields_gen.h and OUT_DIR/kp_schema_gen.c. The output is a
pure function of the input: running it twice gives identical files, which is
what the staleness test checks.
"""
import csv
import json
import os
import re
import sys

VER_NONE = 32767
TYPES = {
    "bool": "KP_T_BOOL", "int8": "KP_T_INT8", "int16": "KP_T_INT16",
    "uint16": "KP_T_UINT16", "int32": "KP_T_INT32", "uint32": "KP_T_UINT32",
    "int64": "KP_T_INT64", "float64": "KP_T_FLOAT64", "uuid": "KP_T_UUID",
    "string": "KP_T_STRING", "bytes": "KP_T_BYTES", "records": "KP_T_RECORDS",
}
KINDS = {"request": "KP_MSG_REQUEST", "response": "KP_MSG_RESPONSE",
         "header": "KP_MSG_HEADER", "data": "KP_MSG_DATA"}


def fail(msg):
    sys.stderr.write("kp_gen: %s\n" % msg)
    sys.exit(1)


def load(path):
    """Parse a definition: JSON once every // comment line is dropped."""
    with open(path, encoding="utf-8") as f:
        lines = [ln for ln in f if not ln.lstrip().startswith("//")]
    try:
        return json.loads("".join(lines))
    except ValueError as e:
        fail("%s: %s" % (path, e))


def vrange(spec, what):
    """'3+' -> (3, NONE); '1-4' -> (1, 4); '2' -> (2, 2); 'none' -> empty."""
    if spec is None or spec == "none":
        return (VER_NONE, -1)
    m = re.fullmatch(r"(\d+)\+", spec)
    if m:
        return (int(m.group(1)), VER_NONE)
    m = re.fullmatch(r"(\d+)-(\d+)", spec)
    if m:
        return (int(m.group(1)), int(m.group(2)))
    if re.fullmatch(r"\d+", spec):
        return (int(spec), int(spec))
    fail("bad version range %r in %s" % (spec, what))


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.upper()


class Gen:
    def __init__(self):
        self.fnames = {}   # field name -> enum symbol
        self.structs = []  # (cname, display name, [field initialisers])
        self.msgs = []
        self.seen = set()

    def fname(self, name):
        sym = "KP_FN_" + snake(name)
        prev = self.fnames.get(name)
        if prev is None:
            for other, osym in self.fnames.items():
                if osym == sym and other.lower() != name.lower():
                    fail("field names %r and %r both map to %s"
                         % (other, name, sym))
            self.fnames[name] = sym
        return sym

    def struct(self, msgname, sname, fields, common):
        """Emit a struct's field table; return its C name."""
        cname = "kp_s_%s_%s" % (msgname, sname)
        if cname in self.seen:
            return cname  # a common struct used by several fields
        self.seen.add(cname)
        inits = []
        for f in fields:
            inits.append(self.field(msgname, f, common))
        self.structs.append((cname, sname, inits))
        return cname

    def field(self, msgname, f, common):
        where = "%s.%s" % (msgname, f["name"])
        t = f["type"]
        is_array = t.startswith("[]")
        elem = t[2:] if is_array else t
        sub = "NULL"
        if elem in TYPES:
            ctype = TYPES[elem]
        else:
            ctype = "KP_T_STRUCT"
            sfields = f.get("fields")
            if sfields is None:
                if elem not in common:
                    fail("%s: unknown type %r" % (where, elem))
                sfields = common[elem]
            sub = "&" + self.struct(msgname, elem, sfields, common)
        vmin, vmax = vrange(f.get("versions"), where)
        nmin, nmax = vrange(f.get("nullableVersions"), where)
        tmin, tmax = vrange(f.get("taggedVersions"), where)
        tag = int(f.get("tag", -1))
        if tmin <= tmax and tag < 0:
            fail("%s: tagged field without a tag" % where)
        flex = -1
        if "flexibleVersions" in f:
            flex = vrange(f["flexibleVersions"], where)[0]
        return ("{%s, %s, %d, %d, %d, %d, %d, %d, %d, %d, %d, %s}"
                % (self.fname(f["name"]), ctype, 1 if is_array else 0,
                   vmin, vmax, nmin, nmax, tmin, tmax, tag, flex, sub))

    def message(self, path):
        d = load(path)
        name = d["name"]
        kind = d.get("type")
        if kind not in KINDS:
            fail("%s: unknown message type %r" % (path, kind))
        common = {c["name"]: c["fields"] for c in d.get("commonStructs", [])}
        vmin, vmax = vrange(d.get("validVersions"), name)
        flex = vrange(d.get("flexibleVersions", "none"), name)[0]
        body = self.struct(name, name, d.get("fields", []), common)
        self.msgs.append({"name": name, "key": d.get("apiKey", -1),
                          "kind": kind, "vmin": vmin, "vmax": vmax,
                          "flex": flex, "body": body})


def hdr_versions(key, name, vmin, vmax, flex):
    """Header versions per API version: the rule plus its two exceptions."""
    req, resp = [], []
    for v in range(vmin, vmax + 1):
        flexible = v >= flex
        if name == "ControlledShutdown" and v == 0:
            req.append(0)
        else:
            req.append(2 if flexible else 1)
        # ApiVersions answers always use header v0: the client reads them
        # before it knows what the broker speaks.
        resp.append(0 if name == "ApiVersions" else (1 if flexible else 0))
    return req, resp


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main(argv):
    if len(argv) != 4:
        fail("usage: kp_gen.py MESSAGE_DIR ERRORS_CSV OUT_DIR")
    mdir, errors_csv, out = argv[1:]
    if not os.path.isdir(mdir):
        fail("%s: not a directory of message definitions" % mdir)
    files = sorted(f for f in os.listdir(mdir) if f.endswith(".json"))
    if not files:
        fail("%s: no *.json message definitions" % mdir)
    g = Gen()
    for f in files:
        g.message(os.path.join(mdir, f))

    errors = []
    with open(errors_csv, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            errors.append((int(row["code"]), row["name"]))
    errors.sort()

    apis = {}
    for m in g.msgs:
        if m["kind"] not in ("request", "response"):
            continue
        a = apis.setdefault(m["key"], {})
        a[m["kind"]] = m
    msg_index = {m["name"]: i for i, m in enumerate(g.msgs)}

    head = ("/* Generated by tools/kp_gen.py from the Apache Kafka message "
            "definitions.\n * Do not edit: run `make regen` instead. */\n")

    # Names that differ only in case ("timeoutMs") share one symbol.
    bysym = {}
    for name, sym in sorted(g.fnames.items()):
        bysym.setdefault(sym, name)
    fsyms = sorted(((n, s) for s, n in bysym.items()), key=lambda kv: kv[1])
    with open(os.path.join(out, "kp_fields_gen.h"), "w") as h:
        h.write(head)
        h.write("#ifndef KP_FIELDS_GEN_H\n#define KP_FIELDS_GEN_H\n\n")
        h.write("/* Every distinct field name of every message. */\n")
        h.write("enum kp_fname {\n")
        for _, sym in fsyms:
            h.write("\t%s,\n" % sym)
        h.write("\tKP_FN__COUNT\n};\n\n")
        h.write("/* API keys, by name. */\nenum kp_api_key {\n")
        for key in sorted(apis):
            nm = apis[key]["request"]["name"][:-len("Request")]
            h.write("\tKP_API_%s = %d,\n" % (snake(nm), key))
        h.write("};\n\n#endif\n")

    with open(os.path.join(out, "kp_schema_gen.c"), "w") as c:
        c.write(head)
        c.write('#include <stddef.h>\n\n#include "kp_schema.h"\n\n')
        c.write("const char *const kp_fname_str[] = {\n")
        for name, sym in fsyms:
            c.write("\t[%s] = %s,\n" % (sym, c_str(name)))
        c.write("};\n\n")
        # Nested structs come before their parents in g.structs.
        for cname, _, _ in g.structs:
            c.write("static const struct kp_struct %s;\n" % cname)
        c.write("\n")
        for cname, sname, inits in g.structs:
            if inits:
                c.write("static const struct kp_field %s_f[] = {\n" % cname)
                for i in inits:
                    c.write("\t%s,\n" % i)
                c.write("};\n")
                c.write("static const struct kp_struct %s = {%s, %d, %s_f};\n\n"
                        % (cname, c_str(sname), len(inits), cname))
            else:
                c.write("static const struct kp_struct %s = {%s, 0, NULL};\n\n"
                        % (cname, c_str(sname)))
        c.write("const struct kp_msg kp_msgs[] = {\n")
        for m in g.msgs:
            c.write("\t{%s, %d, %s, %d, %d, %d, &%s},\n"
                    % (c_str(m["name"]), m["key"], KINDS[m["kind"]],
                       m["vmin"], m["vmax"], m["flex"], m["body"]))
        c.write("};\nconst uint16_t kp_msg_count = %d;\n\n" % len(g.msgs))

        for key in sorted(apis):
            a = apis[key]
            rq, rs = a.get("request"), a.get("response")
            if rq is None or rs is None:
                fail("api key %d lacks a request or a response" % key)
            if (rq["vmin"], rq["vmax"], rq["flex"]) != \
               (rs["vmin"], rs["vmax"], rs["flex"]):
                fail("api key %d: request and response versions differ" % key)
            nm = rq["name"][:-len("Request")]
            req, resp = hdr_versions(key, nm, rq["vmin"], rq["vmax"],
                                     rq["flex"])
            c.write("static const uint8_t kp_hdr_req_%d[] = {%s};\n"
                    % (key, ", ".join(map(str, req))))
            c.write("static const uint8_t kp_hdr_resp_%d[] = {%s};\n"
                    % (key, ", ".join(map(str, resp))))
        c.write("\nconst struct kp_api kp_apis[] = {\n")
        for key in sorted(apis):
            a = apis[key]
            rq = a["request"]
            nm = rq["name"][:-len("Request")]
            c.write("\t[%d] = {%d, %s, %d, %d, %d, kp_hdr_req_%d, "
                    "kp_hdr_resp_%d, &kp_msgs[%d], &kp_msgs[%d]},\n"
                    % (key, key, c_str(nm), rq["vmin"], rq["vmax"], rq["flex"],
                       key, key, msg_index[rq["name"]],
                       msg_index[a["response"]["name"]]))
        c.write("};\nconst int16_t kp_api_count = %d;\n\n"
                % (max(apis) + 1))

        c.write("const struct kp_error kp_errors[] = {\n")
        for code, name in errors:
            c.write("\t{%d, %s},\n" % (code, c_str(name)))
        c.write("};\nconst uint16_t kp_error_count = %d;\n" % len(errors))


if __name__ == "__main__":
    main(sys.argv)
