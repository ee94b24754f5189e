#!/usr/bin/env python3
"""A ClickHouse HTTP interface (port-8123 style) served from the real ClickHouse
engine that PyPI's `chdb-core` package embeds (module `chdb`).

    python3 clickhouse_http.py --port 0 [--data-dir DIR] [--user U --password P]
                               [--tls-cert server.crt --tls-key server.key]

Prints one line `READY http://127.0.0.1:<port>` (`https://` with --tls-cert) on stdout once it accepts
requests (with `--port 0` the kernel picks a free port; read it from that line).
See CLICKHOUSE.md beside this file for what is and is not emulated.

Only the standard library and chdb are used. One chDB session (file-backed in
DATA_DIR) serves every request; requests are serialized with a lock.
"""

import argparse
import base64
import bz2
import gzip
import http.server
import json
import lzma
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
import zlib
from urllib.parse import parse_qsl, urlsplit

# URL parameters that are not settings (ClickHouse's HTTPHandler `reserved_param_names`).
RESERVED_PARAMS = {
    "compress", "decompress", "user", "password", "quota_key", "query_id", "stacktrace", "role",
    "buffer_size", "wait_end_of_query", "session_id", "session_timeout", "session_check",
    "client_protocol_version", "close_session", "database", "default_format", "query",
}

# ClickHouse's exceptionCodeToHTTPStatus (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp), by error
# name; the numbers are looked up in the engine at start-up (errorCodeToName).
STATUS_BY_NAME = {"REQUIRED_PASSWORD": 401}
for _n in ("UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE", "ACCESS_DENIED"):
    STATUS_BY_NAME[_n] = 403
for _n in ("BAD_ARGUMENTS", "CANNOT_COMPILE_REGEXP", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_ESCAPE_SEQUENCE",
           "CANNOT_PARSE_QUOTED_STRING", "CANNOT_PARSE_DATE", "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER",
           "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", "CANNOT_PARSE_IPV4", "CANNOT_PARSE_IPV6",
           "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "CANNOT_PARSE_UUID", "DUPLICATE_COLUMN", "ILLEGAL_COLUMN",
           "UNKNOWN_ELEMENT_IN_AST", "UNKNOWN_TYPE_OF_AST_NODE", "THERE_IS_NO_COLUMN", "TOO_DEEP_AST",
           "TOO_BIG_AST", "UNEXPECTED_AST_STRUCTURE", "SYNTAX_ERROR", "INCORRECT_DATA", "TYPE_MISMATCH",
           "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"):
    STATUS_BY_NAME[_n] = 400
for _n in ("UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE", "UNKNOWN_STORAGE",
           "UNKNOWN_DATABASE", "UNKNOWN_SETTING", "UNKNOWN_DIRECTION_OF_SORTING", "UNKNOWN_AGGREGATE_FUNCTION",
           "UNKNOWN_FORMAT", "UNKNOWN_DATABASE_ENGINE", "UNKNOWN_TYPE_OF_QUERY", "UNKNOWN_ROLE"):
    STATUS_BY_NAME[_n] = 404
STATUS_BY_NAME.update({"QUERY_IS_TOO_LARGE": 413, "NOT_IMPLEMENTED": 501, "SOCKET_TIMEOUT": 503,
                       "CANNOT_OPEN_FILE": 503, "HTTP_LENGTH_REQUIRED": 411, "TIMEOUT_EXCEEDED": 408,
                       "CANNOT_SCHEDULE_TASK": 503, "UNSUPPORTED_MEDIA_TYPE": 415})
_STATUS = {}  # code -> HTTP status, filled by Engine


def http_status_for(code):
    return _STATUS.get(code, 500)


# Content types as ClickHouse's output formats declare them (approximation for the common ones).
def content_type_for(fmt):
    f = fmt.lower()
    if f.startswith("tabseparated") or f.startswith("tsv"):
        return "text/tab-separated-values; charset=UTF-8"
    if f.startswith("csv"):
        return "text/csv; charset=UTF-8; header=" + ("present" if "withnames" in f else "absent")
    if f.startswith("json") or f == "ndjson" or f == "jsonl":
        return "application/json; charset=UTF-8"
    if f in ("xml",):
        return "application/xml; charset=UTF-8"
    if f.startswith("rowbinary") or f in ("native", "arrow", "arrowstream", "parquet", "orc", "avro",
                                           "msgpack", "protobuf", "capnproto", "npy", "bson", "rawblob"):
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


class CHError(Exception):
    """An error in ClickHouse's words: code, NAME and message (without `Code:`/version)."""

    def __init__(self, code, name, message):
        super().__init__(message)
        self.code = code
        self.name = name
        self.message = message


_CODE_RE = re.compile(r"Code: (\d+)\. (?:DB::Exception: )?")


def parse_chdb_error(text):
    """chDB raises e.g. 'Code: 60. DB::Exception: ... (UNKNOWN_TABLE)'; sometimes wrapped
    ('Streaming insert finish failed: Code: ...') or nested ('Code: 73. DB::Exception: Code: 73. ...')."""
    m = _CODE_RE.search(text)
    if not m:
        return CHError(1001, "STD_EXCEPTION", text.strip() or "unknown error")
    code = int(m.group(1))
    rest = text[m.end():]
    # Strip nested repetitions of the same prefix.
    while True:
        m2 = re.match(r"Code: %d\. (?:DB::Exception: )?" % code, rest)
        if not m2:
            break
        rest = rest[m2.end():]
    name = None
    # Strip (NAME) (version ...) tails, repeatedly (nesting repeats them).
    while True:
        m3 = re.search(r"\.?\s*\(([A-Z][A-Z0-9_]+)\)(?:\s*\(version [^()]*(?:\([^()]*\))?\))?\s*$", rest)
        if not m3:
            m4 = re.search(r"\s*\(version [^()]*(?:\([^()]*\))?\)\s*$", rest)
            if m4:
                rest = rest[:m4.start()]
                continue
            break
        name = name or m3.group(1)
        rest = rest[:m3.start()]
    # chDB names the scope of a formatQuery() helper call; drop it.
    rest = re.sub(r": In scope SELECT formatQuery\(.*$", "", rest, flags=re.S)
    return CHError(code, name or "UNKNOWN_EXCEPTION", rest)


# ---------------------------------------------------------------------------
# A small SQL lexer: enough to find the statement kind, a top-level FORMAT clause,
# where INSERT data starts, and a second statement after ';'.

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*|[0-9][A-Za-z0-9_.]*")


def tokens(text, start=0):
    """Yield (kind, value, start, end); kind in word, quoted_id, string, punct."""
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n\f\v":
            i += 1
            continue
        if text.startswith("--", i) or c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            i = j
            continue
        if c in "'\"`":
            j = i + 1
            while j < n:
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            yield ("string" if c == "'" else "quoted_id", text[i:j + 1], i, min(j + 1, n))
            i = j + 1
            continue
        m = _WORD.match(text, i)
        if m:
            yield ("word", m.group(0), i, m.end())
            i = m.end()
            continue
        yield ("punct", c, i, i + 1)
        i += 1


class Analysis:
    kind = ""              # first keyword, upper-case
    insert_format = None   # INSERT ... FORMAT X / VALUES -> "X" / "Values"
    insert_header = None   # text of the INSERT before FORMAT/VALUES
    data_start = None      # offset of inline INSERT data
    output_format = None   # top-level FORMAT clause of a non-INSERT query
    second_statement = None  # offset of the ';' before a second statement
    excessive_semicolon = False  # INSERT ... FORMAT X; (ClickHouse refuses it)


def _ident(tok):
    kind, val = tok[0], tok[1]
    if kind == "quoted_id":
        return val[1:-1]
    return val


def analyze(text):
    a = Analysis()
    toks = []
    depth = 0
    it = tokens(text)
    for tok in it:
        kind, val, s, e = tok
        if not toks and kind == "word":
            a.kind = val.upper()
        if kind == "punct" and val == ";" and depth == 0:
            # Anything but whitespace/comments/';' after it is a second statement.
            for t2 in tokens(text, e):
                if not (t2[0] == "punct" and t2[1] == ";"):
                    a.second_statement = s
                    break
            break
        if kind == "punct" and val == "(":
            depth += 1
        elif kind == "punct" and val == ")":
            depth = max(0, depth - 1)
        toks.append(tok)
        if a.kind == "INSERT" and depth == 0 and kind == "word":
            up = val.upper()
            if up == "VALUES" and len(toks) >= 3:
                a.insert_format = "Values"
                a.insert_header = text[:s]
                a.data_start = e
                return a
            if up == "FORMAT" and len(toks) >= 3:
                nxt = next(it, None)
                if nxt is None:
                    return a
                a.insert_format = _ident(nxt)
                a.insert_header = text[:s]
                d = nxt[3]
                if d < len(text) and text[d] == ";":
                    a.excessive_semicolon = True
                # ClickHouse: data starts after the first newline if there is one, else after the whitespace.
                while d < len(text) and text[d] in " \t\f":
                    d += 1
                if d < len(text) and text[d] == "\r":
                    d += 1
                if d < len(text) and text[d] == "\n":
                    d += 1
                a.data_start = d
                return a
            if up in ("SELECT", "WITH") and len(toks) >= 3:
                # INSERT ... SELECT: an ordinary query from here on.
                a.insert_format = None
    if a.kind != "INSERT":
        # Top-level `FORMAT name` followed by nothing, ';' or SETTINGS.
        depth = 0
        for idx, tok in enumerate(toks):
            if tok[0] == "punct" and tok[1] == "(":
                depth += 1
            elif tok[0] == "punct" and tok[1] == ")":
                depth -= 1
            elif depth == 0 and idx > 0 and tok[0] == "word" and tok[1].upper() == "FORMAT" and idx + 1 < len(toks):
                after = toks[idx + 2] if idx + 2 < len(toks) else None
                if after is None or (after[0] == "word" and after[1].upper() == "SETTINGS"):
                    if toks[idx + 1][0] in ("word", "quoted_id"):
                        a.output_format = _ident(toks[idx + 1])
    return a


READONLY_KINDS = {"SELECT", "WITH", "SHOW", "DESC", "DESCRIBE", "EXISTS", "EXPLAIN", "SET", "USE", "CHECK", ""}
RESULT_KINDS = {"SELECT", "WITH", "SHOW", "DESC", "DESCRIBE", "EXISTS", "EXPLAIN", "CHECK", ""}


def sql_string(v):
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_ident(v):
    return "`" + v.replace("\\", "\\\\").replace("`", "\\`") + "`"


# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# ClickHouse's own ("native") compression for the compress=1 / decompress=1 URL parameters:
# blocks of [CityHash128 v1.0.2 checksum (16 bytes)][method (1)][compressed size incl. 9-byte
# header (u32 LE)][uncompressed size (u32 LE)][data]. Methods: 0x82 LZ4, 0x90 ZSTD, 0x02 NONE.

# CityHash128 v1.0.2, the version ClickHouse checksums its blocks with: a Python port of Google's
# city.cc (CityHash, by Geoff Pike and Jyrki Alakuijala; Copyright (c) 2011 Google, Inc.; MIT licence).
M = 0xFFFFFFFFFFFFFFFF
k0 = 0xc3a5c85c97cb3127
k1 = 0xb492b66fbe98f273
k2 = 0x9ae16a3b2f90404f
k3 = 0xc949d7c7509e6557
def _f64(s, i): return struct.unpack_from("<Q", s, i)[0]
def _f32(s, i): return struct.unpack_from("<I", s, i)[0]
def _rot(v, sh): return v if sh == 0 else ((v >> sh) | (v << (64 - sh))) & M
def _smix(v): return v ^ (v >> 47)
def _h128to64(lo, hi):
    kmul = 0x9ddfea08eb382d69
    a = ((lo ^ hi) * kmul) & M
    a ^= a >> 47
    b = ((hi ^ a) * kmul) & M
    b ^= b >> 47
    return (b * kmul) & M
def _hl16(u, v): return _h128to64(u, v)
def _hl0to16(s, o, ln):
    if ln > 8:
        a = _f64(s, o); b = _f64(s, o + ln - 8)
        return _hl16(a, _rot((b + ln) & M, ln)) ^ b
    if ln >= 4:
        a = _f32(s, o)
        return _hl16((ln + (a << 3)) & M, _f32(s, o + ln - 4))
    if ln > 0:
        a = s[o]; b = s[o + (ln >> 1)]; c = s[o + ln - 1]
        y = (a + (b << 8)) & 0xFFFFFFFF
        z = (ln + (c << 2)) & 0xFFFFFFFF
        return (_smix(((y * k2) ^ (z * k3)) & M) * k2) & M
    return k2
def _weak(w, x, y, z, a, b):
    a = (a + w) & M
    b = _rot((b + a + z) & M, 21)
    c = a
    a = (a + x + y) & M
    b = (b + _rot(a, 44)) & M
    return (a + z) & M, (b + c) & M
def _weak_s(s, o, a, b):
    return _weak(_f64(s, o), _f64(s, o + 8), _f64(s, o + 16), _f64(s, o + 24), a, b)
def _city_murmur(s, o, ln, lo, hi):
    a, b, c, d = lo, hi, 0, 0
    l = ln - 16
    if l <= 0:
        a = (_smix((a * k1) & M) * k1) & M
        c = (b * k1 + _hl0to16(s, o, ln)) & M
        d = _smix((a + (_f64(s, o) if ln >= 8 else c)) & M)
    else:
        c = _hl16((_f64(s, o + ln - 8) + k1) & M, a)
        d = _hl16((b + ln) & M, (c + _f64(s, o + ln - 16)) & M)
        a = (a + d) & M
        while True:
            a ^= (_smix((_f64(s, o) * k1) & M) * k1) & M
            a = (a * k1) & M
            b ^= a
            c ^= (_smix((_f64(s, o + 8) * k1) & M) * k1) & M
            c = (c * k1) & M
            d ^= c
            o += 16; l -= 16
            if l <= 0: break
    a = _hl16(a, c)
    b = _hl16(d, b)
    return a ^ b, _hl16(b, a)
def _city128_seed(s, o, ln, lo, hi):
    if ln < 128:
        return _city_murmur(s, o, ln, lo, hi)
    x, y = lo, hi
    z = (ln * k1) & M
    v0 = ((_rot(y ^ k1, 49) * k1) + _f64(s, o)) & M
    v1 = ((_rot(v0, 42) * k1) + _f64(s, o + 8)) & M
    w0 = ((_rot((y + z) & M, 35) * k1) + x) & M
    w1 = (_rot((x + _f64(s, o + 88)) & M, 53) * k1) & M
    while True:
        for _ in range(2):
            x = (_rot((x + y + v0 + _f64(s, o + 16)) & M, 37) * k1) & M
            y = (_rot((y + v1 + _f64(s, o + 48)) & M, 42) * k1) & M
            x ^= w1
            y ^= v0
            z = _rot(z ^ w0, 33)
            v0, v1 = _weak_s(s, o, (v1 * k1) & M, (x + w0) & M)
            w0, w1 = _weak_s(s, o + 32, (z + w1) & M, y)
            z, x = x, z
            o += 64
        ln -= 128
        if ln < 128: break
    y = (y + _rot(w0, 37) * k0 + z) & M
    x = (x + _rot((v0 + z) & M, 49) * k0) & M
    tail = 0
    while tail < ln:
        tail += 32
        y = ((_rot((y - x) & M, 42) * k0) + v1) & M
        w0 = (w0 + _f64(s, o + ln - tail + 16)) & M
        x = ((_rot(x, 49) * k0) + w0) & M
        w0 = (w0 + v0) & M
        v0, v1 = _weak_s(s, o + ln - tail, v0, v1)
    x = _hl16(x, v0)
    y = _hl16(y, w0)
    return (_hl16((x + v1) & M, w1) + y) & M, _hl16((x + w1) & M, (y + v1) & M)
def cityhash128(s):
    ln = len(s)
    if ln >= 16:
        return _city128_seed(s, 16, ln - 16, _f64(s, 0) ^ k3, _f64(s, 8))
    if ln >= 8:
        return _city128_seed(b"", 0, 0, _f64(s, 0) ^ ((ln * k0) & M), _f64(s, ln - 8) ^ k1)
    return _city128_seed(s, 0, ln, k0, k1)


def lz4_block_decompress(src, usize):
    dst = bytearray()
    i, n = 0, len(src)
    while i < n:
        token = src[i]
        i += 1
        lit = token >> 4
        if lit == 15:
            while True:
                b = src[i]
                i += 1
                lit += b
                if b != 255:
                    break
        dst += src[i:i + lit]
        i += lit
        if i >= n:
            break
        off = src[i] | (src[i + 1] << 8)
        i += 2
        ml = token & 15
        if ml == 15:
            while True:
                b = src[i]
                i += 1
                ml += b
                if b != 255:
                    break
        ml += 4
        start = len(dst) - off
        if off <= 0 or start < 0:
            raise ValueError("bad LZ4 offset")
        if off >= ml:
            dst += dst[start:start + ml]
        else:
            for k in range(ml):
                dst.append(dst[start + k])
    if len(dst) != usize:
        raise ValueError("LZ4 block decompressed to %d bytes, header says %d" % (len(dst), usize))
    return bytes(dst)


def lz4_block_literals(data):
    """A valid LZ4 block holding `data` as literals only (no matches): cheap, and any decoder reads it."""
    n = len(data)
    if n < 15:
        return bytes([n << 4]) + data
    rest = n - 15
    return bytes([0xF0]) + b"\xff" * (rest // 255) + bytes([rest % 255]) + data


def native_decompress(engine, body, verify=True):
    out = bytearray()
    i = 0
    while i < len(body):
        if len(body) - i < 25:
            raise CHError(271, "CANNOT_DECOMPRESS", "Cannot decompress: truncated block header")
        lo, hi = struct.unpack_from("<QQ", body, i)
        method = body[i + 16]
        csize, usize = struct.unpack_from("<II", body, i + 17)
        blk = body[i + 16:i + 16 + csize]
        if len(blk) != csize or csize < 9:
            raise CHError(271, "CANNOT_DECOMPRESS", "Cannot decompress: truncated block")
        if verify and cityhash128(blk) != (lo, hi):
            raise CHError(40, "CHECKSUM_DOESNT_MATCH", "Checksum doesn't match: corrupted data")
        payload = blk[9:]
        if method == 0x82:
            try:
                out += lz4_block_decompress(payload, usize)
            except (ValueError, IndexError) as e:
                raise CHError(271, "CANNOT_DECOMPRESS", "Cannot decompress LZ4-encoded data: %s" % e)
        elif method == 0x90:
            with engine.lock:
                out += engine.codec(payload, "zstd", decompress=True)
        elif method == 0x02:
            out += payload
        else:
            raise CHError(271, "CANNOT_DECOMPRESS", "Unknown compression method 0x%02x (this harness reads LZ4, ZSTD and NONE)" % method)
        i += 16 + csize
    return bytes(out)


def native_compress(data, block=1 << 20):
    out = bytearray()
    for i in range(0, max(len(data), 1), block):
        chunk = data[i:i + block]
        payload = lz4_block_literals(chunk)
        blk = struct.pack("<BII", 0x82, 9 + len(payload), len(chunk)) + payload
        lo, hi = cityhash128(blk)
        out += struct.pack("<QQ", lo, hi) + blk
    return bytes(out) if data else b""


class Engine:
    def __init__(self, data_dir, tmp_dir):
        from chdb import session  # chdb-core installs the module `chdb`
        self.lock = threading.Lock()
        self.tmp_dir = tmp_dir
        self.session = session.Session(data_dir)
        self.version = self._q("SELECT version()").strip().decode()
        self.timezone = self._q("SELECT timezone()").strip().decode()
        # chDB changes a few defaults of clickhouse-local; give back the server's.
        self._q("SET async_insert = 0, implicit_select = 0")
        self.baseline = self._changed_settings()
        self.current_db = None
        self._seq = 0
        names = ", ".join(sql_string(n) for n in STATUS_BY_NAME)
        for line in self._q("SELECT number, errorCodeToName(number) AS n FROM numbers(2000) WHERE n IN (%s)"
                            % names).decode().splitlines():
            code, name = line.split("\t")
            _STATUS[int(code)] = STATUS_BY_NAME[name]

    def _q(self, sql, fmt="TabSeparated", params=None):
        return self.session.query(sql, fmt, params=params or None).bytes()

    def _changed_settings(self):
        out = self._q("SELECT name, value FROM system.settings WHERE changed AND name != 'database' FORMAT JSONEachRow")
        return {r["name"]: r["value"] for r in map(json.loads, out.decode().splitlines()) if r}

    def _restore_settings(self):
        now = self._changed_settings()
        resets = []
        for name, value in now.items():
            if name in self.baseline:
                if self.baseline[name] != value:
                    resets.append("%s = %s" % (name, sql_string(self.baseline[name])))
            else:
                resets.append("%s = DEFAULT" % name)
        for name, value in self.baseline.items():
            if name not in now:
                resets.append("%s = %s" % (name, sql_string(value)))
        if resets:
            self._q("SET " + ", ".join(resets))

    def tmp_path(self, suffix):
        self._seq += 1
        return os.path.join(self.tmp_dir, "%d-%d%s" % (os.getpid(), self._seq, suffix))

    def codec(self, data, method, decompress):
        """Compress or decompress with ClickHouse's own codecs, through file()."""
        src = self.tmp_path(".in")
        dst = self.tmp_path(".out")
        try:
            with open(src, "wb") as f:
                f.write(data)
            if decompress:
                return self._q("SELECT * FROM file(%s, 'RawBLOB', 'raw_blob String', %s) FORMAT RawBLOB"
                               % (sql_string(src), sql_string(method)))
            self._q("INSERT INTO FUNCTION file(%s, 'RawBLOB', 'raw_blob String', %s) SELECT * FROM file(%s, 'RawBLOB', 'raw_blob String')"
                    % (sql_string(dst), sql_string(method), sql_string(src)))
            with open(dst, "rb") as f:
                return f.read()
        finally:
            for p in (src, dst):
                try:
                    os.unlink(p)
                except OSError:
                    pass

    def run(self, text_bytes, *, database, default_format, settings, params, readonly):
        """Run one request's query. Returns (body, fmt_or_None, summary dict)."""
        # Analyze on a latin-1 view so byte offsets match and binary data never fails to decode.
        view = text_bytes.decode("latin-1")
        a = analyze(view)
        if not view.strip():
            raise CHError(62, "SYNTAX_ERROR", "Empty query")
        if a.excessive_semicolon:
            raise CHError(62, "SYNTAX_ERROR", "You have excessive ';' symbol before data for INSERT.\n"
                          "Example:\n\nINSERT INTO t (x, y) FORMAT TabSeparated\n;\tHello\n2\tWorld\n\n"
                          "Note that there is no ';' just after format name, you need to put at least one whitespace symbol before the data.")
        if a.second_statement is not None:
            raise self._multi_statement_error(view, a.second_statement)
        if readonly and a.kind not in READONLY_KINDS:
            raise CHError(164, "READONLY", "default: Cannot execute query in readonly mode. For queries over HTTP, "
                          "method GET implies readonly. You should use method POST for modifying queries")
        with self.lock:
            try:
                target = database or "default"
                if self.current_db != target:
                    self._q("USE " + sql_ident(target))
                    self.current_db = target
                if settings:
                    self._q("SET " + ", ".join("%s = %s" % (k, sql_string(v)) for k, v in settings))
                t0 = time.monotonic()
                if a.insert_format is not None and a.data_start is not None:
                    header = text_bytes[:len(a.insert_header.encode("latin-1"))].decode("utf-8", "replace")
                    data = text_bytes[a.data_start:]
                    ins = self.session.send_insert(header.rstrip(), a.insert_format)
                    try:
                        if data:
                            ins.append(data)
                        res = ins.finish()
                    except BaseException:
                        try:
                            ins.cancel()
                        except Exception:
                            pass
                        raise
                    summary = {"read_rows": 0, "read_bytes": 0, "written_rows": res.rows_written,
                               "written_bytes": res.bytes_written, "total_rows_to_read": 0,
                               "result_rows": res.rows_written, "result_bytes": res.bytes_written,
                               "elapsed_ns": int(res.elapsed * 1e9)}
                    return b"", None, summary
                sql = text_bytes.decode("utf-8", "replace")
                fmt = a.output_format or default_format or "TabSeparated"
                r = self.session.query(sql, fmt, params=params or None)
                body = r.bytes()
                summary = {"read_rows": r.rows_read(), "read_bytes": r.bytes_read(),
                           "written_rows": r.rows_written(), "written_bytes": r.bytes_written(),
                           "total_rows_to_read": r.rows_read(), "elapsed_ns": int(r.elapsed() * 1e9)}
                if a.kind == "INSERT":
                    summary["result_rows"] = summary["written_rows"]
                    summary["result_bytes"] = summary["written_bytes"]
                if summary["elapsed_ns"] == 0:
                    summary["elapsed_ns"] = int((time.monotonic() - t0) * 1e9)
                return body, (fmt if a.kind in RESULT_KINDS else None), summary
            except CHError:
                raise
            except Exception as e:  # chdb.ChdbError / RuntimeError
                raise parse_chdb_error(str(e))
            finally:
                try:
                    if settings or a.kind == "SET":
                        self._restore_settings()
                    if a.kind in ("USE", "DROP", "RENAME", "DETACH", "ATTACH", "EXCHANGE"):
                        self.current_db = None
                except Exception:
                    self.current_db = None

    def _multi_statement_error(self, view, pos):
        # Let ClickHouse's own parser word it: formatQuery() refuses multi-statements like the server.
        try:
            with self.lock:
                self._q("SELECT formatQuery(%s)" % sql_string(view.encode("latin-1").decode("utf-8", "replace")))
        except Exception as e:
            err = parse_chdb_error(str(e))
            if err.code == 62:
                return err
        return CHError(62, "SYNTAX_ERROR", "Syntax error (Multi-statements are not allowed): failed at position %d (end of query): %s. "
                       % (pos + 1, view[pos:]))


def read_chunked(rfile):
    out = bytearray()
    while True:
        line = rfile.readline(65537)
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers
                t = rfile.readline(65537)
                if t in (b"\r\n", b"\n", b""):
                    break
            return bytes(out)
        out += rfile.read(size)
        rfile.readline(65537)


def make_handler(engine, user, password, display_name):
    # Request bodies seen, by database and Content-Encoding ("identity" without one): what
    # GET /_harness/encodings answers, so a client's test can see its bodies really went compressed.
    encodings = {}
    encodings_lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):  # quiet
            pass

        def setup(self):
            # HTTPS: the TLS handshake here, on the request's own thread, so a client that never
            # completes one stalls only itself (the listening socket does not shake hands on accept).
            if isinstance(self.request, ssl.SSLSocket):
                self.request.do_handshake()
            super().setup()

        def send_response(self, code, message=None):
            # Like ClickHouse: no Server header.
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

        def do_GET(self):
            self.handle_any(False)

        def do_HEAD(self):
            self.handle_any(False)

        def do_POST(self):
            self.handle_any(True)

        def send_body(self, status, body, headers):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-ClickHouse-Server-Display-Name", display_name)
            # Headers and body in one write (with TCP_NODELAY): no Nagle/delayed-ACK stall.
            self._headers_buffer.append(b"\r\n")
            if self.command != "HEAD":
                self._headers_buffer.append(body)
            self.wfile.write(b"".join(self._headers_buffer))
            self._headers_buffer = []

        def send_error_ch(self, err, query_id=None):
            text = "Code: %d. DB::Exception: %s%s (%s) (version %s)\n" % (
                err.code, err.message, "" if err.message.endswith(".") else ".", err.name, engine.version)
            headers = [("Content-Type", "text/plain; charset=UTF-8"),
                       ("X-ClickHouse-Exception-Code", str(err.code))]
            if query_id:
                headers.append(("X-ClickHouse-Query-Id", query_id))
            self.send_body(http_status_for(err.code), text.encode(), headers)

        def handle_any(self, is_post):
            try:
                self._handle(is_post)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _handle(self, is_post):
            url = urlsplit(self.path)
            qs = parse_qsl(url.query, keep_blank_values=True)
            params = {}
            for k, v in qs:
                params.setdefault(k, v)
            # Read the body whatever happens, so keep-alive stays in step.
            body = b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = read_chunked(self.rfile)
            elif self.headers.get("Content-Length"):
                body = self.rfile.read(int(self.headers["Content-Length"]))
            elif is_post:
                return self.send_error_ch(CHError(381, "HTTP_LENGTH_REQUIRED",
                                                  "The Transfer-Encoding is not chunked and there is no Content-Length header for POST request"))
            path = url.path
            if path == "/_harness/encodings" and self.command == "GET":
                with encodings_lock:
                    seen = dict(encodings.get(params.get("database", ""), {}))
                return self.send_body(200, json.dumps(seen, sort_keys=True).encode(),
                                      [("Content-Type", "application/json; charset=UTF-8")])
            if path in ("/ping", "/replicas_status") and self.command in ("GET", "HEAD"):
                return self.send_body(200, b"Ok.\n", [("Content-Type", "text/html; charset=UTF-8")])
            if path == "/" and "query" not in params and not body and not is_post:
                return self.send_body(200, b"Ok.\n", [("Content-Type", "text/html; charset=UTF-8")])
            query_id = params.get("query_id") or self.headers.get("X-ClickHouse-Query-Id") or str(uuid.uuid4())

            # Authentication: X-ClickHouse-User/Key headers, Basic auth, or user/password params.
            u = p = None
            if self.headers.get("X-ClickHouse-User") is not None or self.headers.get("X-ClickHouse-Key") is not None:
                u, p = self.headers.get("X-ClickHouse-User", "default"), self.headers.get("X-ClickHouse-Key", "")
            elif self.headers.get("Authorization", "").lower().startswith("basic "):
                try:
                    dec = base64.b64decode(self.headers["Authorization"][6:].strip()).decode()
                    u, _, p = dec.partition(":")
                except Exception:
                    u, p = "", None
            else:
                u, p = params.get("user", "default"), params.get("password", "")
            u = u or "default"
            if u != user or p != password:
                msg = "%s: Authentication failed: password is incorrect, or there is no user with such name." % u
                if u == "default":
                    msg += ("\n\nIf you have installed ClickHouse and forgot password you can reset it in the configuration file.\n"
                            "The password for default user is typically located at /etc/clickhouse-server/users.d/default-password.xml\n"
                            "and deleting this file will reset the password.\n"
                            "See also /etc/clickhouse-server/users.xml on the server where ClickHouse is installed.\n\n")
                return self.send_error_ch(CHError(516, "AUTHENTICATION_FAILED", msg), query_id)

            if body:
                enc = self.headers.get("Content-Encoding", "").strip().lower() or "identity"
                db = self.headers.get("X-ClickHouse-Database") or params.get("database") or ""
                with encodings_lock:
                    counts = encodings.setdefault(db, {})
                    counts[enc] = counts.get(enc, 0) + 1
            truthy = ("1", "true")
            try:
                body = self.decode_body(body)
                if params.get("decompress", "0").lower() in truthy and body:
                    verify = params.get("http_native_compression_disable_checksumming_on_decompress", "0").lower() not in truthy
                    body = native_decompress(engine, body, verify)
            except CHError as e:
                return self.send_error_ch(e, query_id)

            q = params.get("query", "")
            text = q.encode("utf-8")
            if text and body:
                text = text + b"\n" + body
            elif body:
                text = body
            settings = [(k, v) for k, v in qs if k not in RESERVED_PARAMS and not k.startswith("param_") and k]
            qparams = {k[6:]: v for k, v in qs if k.startswith("param_")}
            database = self.headers.get("X-ClickHouse-Database") or params.get("database") or ""
            default_format = self.headers.get("X-ClickHouse-Format") or params.get("default_format") or ""
            try:
                out, fmt, summary = engine.run(text, database=database, default_format=default_format,
                                               settings=settings, params=qparams, readonly=not is_post)
            except CHError as e:
                return self.send_error_ch(e, query_id)
            headers = [("Content-Type", content_type_for(fmt) if fmt else "text/plain; charset=UTF-8"),
                       ("X-ClickHouse-Query-Id", query_id)]
            if fmt:
                headers.append(("X-ClickHouse-Format", fmt))
                headers.append(("X-ClickHouse-Timezone", engine.timezone))
            headers.append(("X-ClickHouse-Summary", json.dumps({k: str(v) for k, v in summary.items()}, separators=(",", ":"))))
            if params.get("compress", "0").lower() in truthy:
                out = native_compress(out)
            enable_comp = params.get("enable_http_compression", "0").lower() in ("1", "true")
            accept = self.headers.get("Accept-Encoding", "")
            method = choose_http_compression(accept) if enable_comp else None
            if method:
                level = int(params.get("http_zlib_compression_level", "3"))
                try:
                    out = encode(engine, out, method, level)
                    headers.append(("Content-Encoding", method))
                except Exception:
                    pass
            headers.append(("Keep-Alive", "timeout=10"))
            self.send_body(200, out, headers)

        def decode_body(self, body):
            enc = self.headers.get("Content-Encoding", "").strip().lower()
            if not enc or enc == "identity" or not body:
                return body
            try:
                if enc in ("gzip", "x-gzip"):
                    return gzip.decompress(body)
                if enc == "deflate":
                    try:
                        return zlib.decompress(body)
                    except zlib.error:
                        return zlib.decompress(body, -15)
                if enc in ("xz", "lzma"):
                    return lzma.decompress(body)
                if enc in ("bz2", "bzip2"):
                    return bz2.decompress(body)
                if enc in ("zstd", "zst", "br", "brotli", "lz4", "snappy"):
                    m = {"zst": "zstd", "brotli": "br"}.get(enc, enc)
                    with engine.lock:
                        return engine.codec(body, m, decompress=True)
            except CHError:
                raise
            except Exception as e:
                msg = str(e)
                err = parse_chdb_error(msg) if "Code:" in msg else CHError(
                    354, "CANNOT_DECOMPRESS", "Cannot decompress request body (%s): %s" % (enc, msg))
                raise err
            # ClickHouse's chooseCompressionMethod, word for word (chDB's file() raises the same).
            raise CHError(48, "NOT_IMPLEMENTED",
                          "Unknown compression method '%s'. Only 'auto', 'none', 'gzip', 'deflate', 'br', 'xz', "
                          "'zstd', 'lz4', 'bz2', 'snappy' are supported as compression methods" % enc)

    return Handler


def choose_http_compression(accept):
    # ClickHouse's chooseHTTPCompressionMethod order.
    for name in ("zstd", "br", "lz4", "snappy", "gzip", "deflate", "xz", "bz2"):
        if name in accept:
            return name
    return None


def encode(engine, data, method, level):
    if method == "gzip":
        return gzip.compress(data, compresslevel=max(1, min(9, level)))
    if method == "deflate":
        return zlib.compress(data, max(1, min(9, level)))
    if method == "xz":
        return lzma.compress(data)
    if method == "bz2":
        return bz2.compress(data)
    with engine.lock:
        return engine.codec(data, method, decompress=False)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8123, help="TCP port on 127.0.0.1 (0: pick a free one)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--data-dir", default=None, help="chDB data directory (default: a temporary one, removed at exit)")
    ap.add_argument("--user", default="default")
    ap.add_argument("--password", default="")
    ap.add_argument("--display-name", default=socket.gethostname())
    ap.add_argument("--tls-cert", default=None, help="serve HTTPS with this certificate (PEM; with --tls-key)")
    ap.add_argument("--tls-key", default=None, help="the certificate's private key (PEM)")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    tmp_root = tempfile.mkdtemp(prefix="chdb-http-")
    data_dir = args.data_dir or os.path.join(tmp_root, "data")
    os.makedirs(data_dir, exist_ok=True)
    engine = Engine(data_dir, tmp_root)
    server = Server((args.host, args.port), make_handler(engine, args.user, args.password, args.display_name))
    port = server.server_address[1]
    scheme = "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("READY %s://%s:%d chdb=%s" % (scheme, args.host, port, engine.version), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        with engine.lock:
            engine.session.close()
        shutil.rmtree(tmp_root, ignore_errors=True)


if __name__ == "__main__":
    main()
