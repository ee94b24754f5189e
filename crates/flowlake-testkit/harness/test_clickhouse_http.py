#!/usr/bin/env python3
"""Checks clickhouse_http.py against ClickHouse's documented HTTP interface
(https://clickhouse.com/docs/interfaces/http) and its server source
(HTTPHandler.cpp, exceptionCodeToHTTPStatus.cpp, AccessControl.cpp).

Standard library only (plus chdb, which the harness needs):
    python3 crates/flowlake-testkit/harness/test_clickhouse_http.py
"""

import base64
import gzip
import http.client
import json
import os
import re
import shutil
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "clickhouse_http.py")
USER, PASSWORD = "flowlake", "s3cret"
VERSION_TAIL = re.compile(r" \(version \d+\.\d+\.\d+\.\d+[^)]*\)\n$")


def start_harness(data_dir, *extra):
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, HARNESS, "--port", "0", "--data-dir", data_dir,
                             "--user", USER, "--password", PASSWORD, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError("harness did not start: %r %s" % (line, proc.stderr.read()))
    url = line.split()[1]
    return proc, url, time.monotonic() - t0


def stop_harness(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()
    proc.stderr.close()


def varuint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def rb_string(b):
    return varuint(len(b)) + b


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8")


class Base(unittest.TestCase):
    url = None

    def request(self, query=None, body=None, params=None, headers=None, method=None, auth=True):
        qs = dict(params or {})
        if query is not None:
            qs["query"] = query
        url = self.url + "/" + ("?" + urllib.parse.urlencode(qs) if qs else "")
        h = {}
        if auth:
            h.update({"X-ClickHouse-User": USER, "X-ClickHouse-Key": PASSWORD})
        h.update(headers or {})
        if isinstance(body, str):
            body = body.encode()
        req = urllib.request.Request(url, data=body, headers=h, method=method or ("POST" if body is not None else "GET"))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def ok(self, *a, **kw):
        r = self.request(*a, **kw)
        self.assertEqual(r.status, 200, r.body[:2000])
        return r

    def assertException(self, r, status, code, name, text_re=None):
        self.assertEqual(r.status, status, r.body[:2000])
        self.assertEqual(r.headers.get("X-ClickHouse-Exception-Code"), str(code))
        body = r.text
        self.assertTrue(body.startswith("Code: %d. DB::Exception: " % code), body)
        self.assertIn("(%s)" % name, body)
        self.assertRegex(body, VERSION_TAIL)
        if text_re:
            self.assertRegex(body, text_re)


class HTTPInterfaceTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ch-http-test-")
        cls.proc, cls.url, cls.startup = start_harness(os.path.join(cls.tmp, "data"))

    @classmethod
    def tearDownClass(cls):
        stop_harness(cls.proc)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- health checks -----------------------------------------------------------------
    def test_ping_and_root(self):
        r = self.ok(auth=False, method="GET", params=None)
        self.assertEqual(r.body, b"Ok.\n")
        with urllib.request.urlopen(self.url + "/ping") as resp:
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.read(), b"Ok.\n")

    # --- querying -----------------------------------------------------------------------
    def test_select_in_url_default_tabseparated_and_headers(self):
        r = self.ok("SELECT 1")
        self.assertEqual(r.body, b"1\n")
        self.assertEqual(r.headers["X-ClickHouse-Format"], "TabSeparated")
        self.assertTrue(r.headers["Content-Type"].startswith("text/tab-separated-values"))
        self.assertRegex(r.headers["X-ClickHouse-Query-Id"], r"^[0-9a-f-]{36}$")
        self.assertTrue(r.headers["X-ClickHouse-Timezone"])
        self.assertTrue(r.headers["X-ClickHouse-Server-Display-Name"])
        summary = json.loads(r.headers["X-ClickHouse-Summary"])
        for key in ("read_rows", "read_bytes", "written_rows", "written_bytes", "total_rows_to_read", "elapsed_ns"):
            self.assertIsInstance(summary[key], str, key)
            int(summary[key])

    def test_query_in_body_and_split_between_url_and_body(self):
        self.assertEqual(self.ok(body="SELECT 1").body, b"1\n")
        self.assertEqual(self.ok("", body="SELECT 1").body, b"1\n")
        # Docs: echo '1' | curl 'http://localhost:8123/?query=SELECT' --data-binary @-
        self.assertEqual(self.ok("SELECT", body="1\n").body, b"1\n")

    def test_query_id_is_echoed(self):
        r = self.ok("SELECT 1", params={"query_id": "my-query-42"})
        self.assertEqual(r.headers["X-ClickHouse-Query-Id"], "my-query-42")

    def test_formats(self):
        r = self.ok("SELECT number AS n, toString(number) AS s FROM numbers(2) FORMAT JSONEachRow")
        self.assertEqual([json.loads(l) for l in r.text.splitlines()], [{"n": 0, "s": "0"}, {"n": 1, "s": "1"}])
        self.assertEqual(r.headers["X-ClickHouse-Format"], "JSONEachRow")
        r = self.ok("SELECT 1 AS x", params={"default_format": "JSON"})
        doc = json.loads(r.body)
        self.assertEqual(doc["data"], [{"x": 1}])
        self.assertEqual(doc["meta"], [{"name": "x", "type": "UInt8"}])
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
        r = self.ok("SELECT 1 AS x, 'a' AS y", headers={"X-ClickHouse-Format": "JSONCompact"})
        self.assertEqual(json.loads(r.body)["data"], [[1, "a"]])
        r = self.ok("SELECT toUInt32(7) AS x, 'ab' AS y FORMAT RowBinary")
        self.assertEqual(r.body, struct.pack("<I", 7) + b"\x02ab")
        self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
        r = self.ok("SELECT toUInt8(5) AS x FORMAT Native")
        self.assertEqual(r.body, b"\x01\x01\x01x\x05UInt8\x05")
        # The FORMAT clause beats default_format.
        self.assertEqual(self.ok("SELECT 1 AS x FORMAT JSONEachRow", params={"default_format": "JSON"}).body, b'{"x":1}\n')

    def test_query_parameters(self):
        r = self.ok("SELECT {id:UInt8} + 1, {s:String}", params={"param_id": "2", "param_s": "x y"})
        self.assertEqual(r.body, b"3\tx y\n")

    def test_get_is_readonly(self):
        r = self.request("CREATE TABLE must_not_exist (a UInt8) ENGINE = Memory", method="GET")
        self.assertException(r, 500, 164, "READONLY", r"method GET implies readonly")
        self.assertEqual(self.ok(body="EXISTS TABLE must_not_exist").body, b"0\n")

    def test_multi_statements_are_refused(self):
        r = self.request(body="SELECT 1; SELECT 2")
        self.assertException(r, 400, 62, "SYNTAX_ERROR", r"Multi-statements are not allowed")
        # A trailing semicolon is one statement.
        self.assertEqual(self.ok(body="SELECT 1;").body, b"1\n")
        self.assertEqual(self.ok(body="SELECT ';' AS x; -- comment\n").body, b";\n")
        # ';' right after an INSERT's format name is refused too; data may hold ';' freely.
        self.ok(body="CREATE TABLE semi (s String) ENGINE = Memory")
        r = self.request(body="INSERT INTO semi FORMAT TabSeparated;")
        self.assertException(r, 400, 62, "SYNTAX_ERROR", r"excessive ';' symbol before data for INSERT")
        self.ok("INSERT INTO semi FORMAT TabSeparated", body="a;b\n;\n")
        self.assertEqual(self.ok("SELECT s FROM semi").body, b"a;b\n;\n")

    # --- errors -------------------------------------------------------------------------
    def test_syntax_error(self):
        r = self.request(body="SELEC 1")
        self.assertException(r, 400, 62, "SYNTAX_ERROR", r"^Code: 62\. DB::Exception: Syntax error: failed at position 1")

    def test_unknown_table(self):
        r = self.request(body="SELECT * FROM no_such_table")
        self.assertException(r, 404, 60, "UNKNOWN_TABLE", r"no_such_table")

    def test_runtime_error_is_500(self):
        r = self.request(body="SELECT throwIf(1)")
        self.assertException(r, 500, 395, "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO")

    def test_authentication(self):
        # Wrong password through each of the three ways: 516 AUTHENTICATION_FAILED, HTTP 403.
        wrong = [
            dict(headers={"X-ClickHouse-User": USER, "X-ClickHouse-Key": "nope"}, auth=False),
            dict(headers={"Authorization": "Basic " + base64.b64encode(b"%s:nope" % USER.encode()).decode()}, auth=False),
            dict(params={"user": USER, "password": "nope"}, auth=False),
            dict(auth=False),  # no credentials: user default, empty password
        ]
        for kw in wrong:
            r = self.request("SELECT 1", **kw)
            self.assertException(r, 403, 516, "AUTHENTICATION_FAILED",
                                 r"Authentication failed: password is incorrect, or there is no user with such name")
        right = [
            dict(headers={"Authorization": "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()}, auth=False),
            dict(params={"user": USER, "password": PASSWORD}, auth=False),
        ]
        for kw in right:
            self.assertEqual(self.ok("SELECT 1", **kw).body, b"1\n")

    # --- settings -----------------------------------------------------------------------
    def test_url_parameters_are_settings_for_one_query(self):
        q = "SELECT getSetting('max_execution_time'), getSetting('async_insert')"
        r = self.ok(q, params={"max_execution_time": "17", "async_insert": "1", "wait_end_of_query": "1"})
        self.assertEqual(r.body, b"17\ttrue\n")
        self.assertEqual(self.ok(q).body, b"0\tfalse\n")  # not kept after the request, like the server
        r = self.request("SELECT sleep(1)", params={"max_execution_time": "0.2"})
        self.assertException(r, 408, 159, "TIMEOUT_EXCEEDED")
        r = self.request("SELECT 1", params={"no_such_setting_xyz": "1"})
        self.assertException(r, 404, 115, "UNKNOWN_SETTING")
        # A SET over HTTP without session_id does not outlive its request either.
        self.ok(body="SET max_execution_time = 5")
        self.assertEqual(self.ok("SELECT getSetting('max_execution_time')").body, b"0\n")

    def test_insert_deduplication_token(self):
        self.ok(body="CREATE TABLE dedup (a UInt32) ENGINE = MergeTree ORDER BY a "
                     "SETTINGS non_replicated_deduplication_window = 100")
        for _ in range(2):
            self.ok("INSERT INTO dedup FORMAT TabSeparated", body="1\n2\n",
                    params={"insert_deduplication_token": "tok-1", "async_insert": "0"})
        self.ok("INSERT INTO dedup FORMAT TabSeparated", body="1\n2\n", params={"insert_deduplication_token": "tok-2"})
        self.assertEqual(self.ok("SELECT count() FROM dedup").body, b"4\n")

    def test_database_parameter_and_header(self):
        self.ok(body="CREATE DATABASE IF NOT EXISTS other")
        self.ok(body="CREATE TABLE other.t (a UInt8) ENGINE = Memory")
        self.ok(body="INSERT INTO other.t VALUES (7)")
        self.assertEqual(self.ok("SELECT a FROM t", params={"database": "other"}).body, b"7\n")
        self.assertEqual(self.ok("SELECT currentDatabase()", headers={"X-ClickHouse-Database": "other"}).body, b"other\n")
        self.assertEqual(self.ok("SELECT currentDatabase()").body, b"default\n")
        r = self.request("SELECT 1", params={"database": "no_such_db"})
        self.assertException(r, 404, 81, "UNKNOWN_DATABASE")

    # --- inserts ------------------------------------------------------------------------
    def test_replacing_merge_tree_inserts_in_all_formats_and_final(self):
        self.ok(body="CREATE TABLE rmt (id UInt64, name String, ver UInt32) "
                     "ENGINE = ReplacingMergeTree(ver) ORDER BY id")
        # Keep the parts apart so that count() sees every inserted row and FINAL has work to do.
        self.ok(body="SYSTEM STOP MERGES rmt")
        # RowBinary, with bytes that would break a text path: NUL, newline, tab, ';', invalid UTF-8.
        tricky = b"a\x00b\nc\td;e\xff"
        rows = b"".join(struct.pack("<Q", i) + rb_string(tricky + str(i).encode()) + struct.pack("<I", 1) for i in range(3))
        r = self.ok("INSERT INTO rmt FORMAT RowBinary", body=rows)
        self.assertEqual(r.body, b"")
        self.assertEqual(json.loads(r.headers["X-ClickHouse-Summary"])["written_rows"], "3")
        # JSONEachRow: newer versions of ids 0 and 1.
        self.ok("INSERT INTO rmt FORMAT JSONEachRow",
                body='{"id":0,"name":"zero-v2","ver":2}\n{"id":1,"name":"one-v2","ver":2}\n')
        # TabSeparated with the whole query in the body.
        self.ok(body="INSERT INTO rmt FORMAT TabSeparated\n3\tthree\t1\n")
        # Native, built by hand: columns, rows, then name, type and data of each column.
        native = (varuint(3) + varuint(2)
                  + rb_string(b"id") + rb_string(b"UInt64") + struct.pack("<QQ", 4, 1)
                  + rb_string(b"name") + rb_string(b"String") + rb_string(b"four") + rb_string(b"one-v3")
                  + rb_string(b"ver") + rb_string(b"UInt32") + struct.pack("<II", 1, 3))
        self.ok("INSERT INTO rmt FORMAT Native", body=native)
        # Arrow and ArrowStream: the engine's own output, inserted back.
        arrow = self.ok("SELECT toUInt64(5) AS id, 'five' AS name, toUInt32(1) AS ver FORMAT Arrow").body
        self.assertTrue(arrow.startswith(b"ARROW1"))
        self.ok("INSERT INTO rmt FORMAT Arrow", body=arrow)
        stream = self.ok("SELECT toUInt64(6) AS id, 'six' AS name, toUInt32(1) AS ver FORMAT ArrowStream").body
        self.ok("INSERT INTO rmt FORMAT ArrowStream", body=stream)
        # Values.
        self.ok(body="INSERT INTO rmt VALUES (7, 'seven', 1)")

        self.assertEqual(self.ok("SELECT count() FROM rmt").body, b"11\n")
        r = self.ok("SELECT id, name, ver FROM rmt FINAL ORDER BY id FORMAT JSONEachRow")
        # ClickHouse writes String bytes as they are, invalid UTF-8 included.
        got = [json.loads(l) for l in r.body.decode("utf-8", "replace").splitlines()]
        self.assertEqual([g["id"] for g in got], [0, 1, 2, 3, 4, 5, 6, 7])
        self.assertEqual(got[0]["name"], "zero-v2")
        self.assertEqual(got[1], {"id": 1, "name": "one-v3", "ver": 3})
        # RowBinary round trip keeps every byte.
        r = self.ok("SELECT name FROM rmt FINAL WHERE id = 2 FORMAT RowBinary")
        self.assertEqual(r.body, rb_string(tricky + b"2"))
        r = self.ok("SELECT id, name FROM rmt FINAL WHERE id IN (3, 4) ORDER BY id")
        self.assertEqual(r.body, b"3\tthree\n4\tfour\n")

    def test_bad_insert_data(self):
        self.ok(body="CREATE TABLE bad_rb (a UInt64) ENGINE = MergeTree ORDER BY a")
        r = self.request("INSERT INTO bad_rb FORMAT RowBinary", body=b"\x01\x02")
        self.assertEqual(r.status, 500)
        self.assertIn("(CANNOT_READ_ALL_DATA)", r.text)
        r = self.request("INSERT INTO bad_rb FORMAT JSONEachRow", body='{"a": "x"}\n')
        self.assertIn(r.status, (400, 500))
        self.assertTrue(r.text.startswith("Code: "), r.text)
        self.assertEqual(self.ok("SELECT count() FROM bad_rb").body, b"0\n")

    # --- compression --------------------------------------------------------------------
    def test_gzip_request_bodies(self):
        self.ok(body="CREATE TABLE gz (a UInt32, s String) ENGINE = MergeTree ORDER BY a")
        data = gzip.compress(b"".join(b'{"a":%d,"s":"x%d"}\n' % (i, i) for i in range(1000)))
        self.ok("INSERT INTO gz FORMAT JSONEachRow", body=data, headers={"Content-Encoding": "gzip"})
        # The query itself compressed (docs: echo "SELECT 1" | gzip -c | curl ... -H 'Content-Encoding: gzip').
        r = self.ok(body=gzip.compress(b"SELECT count(), sum(a) FROM gz"), headers={"Content-Encoding": "gzip"})
        self.assertEqual(r.body, b"1000\t499500\n")

    def test_unknown_request_encoding_is_refused_like_clickhouse(self):
        r = self.request("SELECT 1", body=b"xyz", headers={"Content-Encoding": "frobnicate"})
        self.assertException(r, 501, 48, "NOT_IMPLEMENTED",
                             r"Unknown compression method 'frobnicate'\. Only 'auto', 'none', 'gzip'")

    def test_request_encodings_are_counted_per_database(self):
        self.ok(body="CREATE DATABASE IF NOT EXISTS enc_count")
        self.ok(body="CREATE TABLE enc_count.t (a UInt32) ENGINE = MergeTree ORDER BY a")
        db = {"X-ClickHouse-Database": "enc_count"}
        self.ok("INSERT INTO t FORMAT TabSeparated", body=gzip.compress(b"1\n2\n"),
                headers=dict(db, **{"Content-Encoding": "gzip"}))
        self.ok("INSERT INTO t FORMAT TabSeparated", body=b"3\n", headers=db)
        self.ok(body="SELECT count() FROM t", headers=db)
        self.assertEqual(self.ok("SELECT count() FROM enc_count.t").body, b"3\n")
        with urllib.request.urlopen(self.url + "/_harness/encodings?database=enc_count", timeout=30) as r:
            self.assertEqual(json.loads(r.read()), {"gzip": 1, "identity": 2})
        with urllib.request.urlopen(self.url + "/_harness/encodings?database=nothing_here", timeout=30) as r:
            self.assertEqual(json.loads(r.read()), {})

    def test_compressed_responses(self):
        q = "SELECT number FROM system.numbers LIMIT 3"
        r = self.ok(q, params={"enable_http_compression": "1"}, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.headers["Content-Encoding"], "gzip")
        self.assertEqual(gzip.decompress(r.body), b"0\n1\n2\n")
        # Without enable_http_compression the server does not compress.
        r = self.ok(q, headers={"Accept-Encoding": "gzip"})
        self.assertIsNone(r.headers.get("Content-Encoding"))
        self.assertEqual(r.body, b"0\n1\n2\n")
        # The other methods ClickHouse lists: a compressed answer goes back in as a request body.
        for method in ("zstd", "br", "lz4", "snappy", "deflate", "xz", "bz2"):
            r = self.ok("SELECT 'SELECT 40 + 2' FORMAT RawBLOB", params={"enable_http_compression": "1"},
                        headers={"Accept-Encoding": method})
            self.assertEqual(r.headers["Content-Encoding"], method)
            self.assertNotEqual(r.body, b"SELECT 40 + 2")
            self.assertEqual(self.ok(body=r.body, headers={"Content-Encoding": method}).body, b"42\n")

    def test_native_compression_compress_and_decompress(self):
        # compress=1: ClickHouse's block format [CityHash128][method][compressed size][size][data].
        r = self.ok("SELECT number AS a FROM numbers(1000) FORMAT RowBinary", params={"compress": "1"})
        body = r.body
        self.assertEqual(body[16], 0x82)  # LZ4
        csize, usize = struct.unpack_from("<II", body, 17)
        self.assertEqual((len(body), usize), (16 + csize, 8000))
        # decompress=1: the same blocks go back in as an INSERT body.
        self.ok(body="CREATE TABLE nat (a UInt64) ENGINE = MergeTree ORDER BY a")
        self.ok("INSERT INTO nat FORMAT RowBinary", body=body, params={"decompress": "1"})
        self.assertEqual(self.ok("SELECT count(), sum(a) FROM nat").body, b"1000\t499500\n")
        corrupt = bytearray(body)
        corrupt[-1] ^= 0xFF
        r = self.request("INSERT INTO nat FORMAT RowBinary", body=bytes(corrupt), params={"decompress": "1"})
        self.assertException(r, 500, 40, "CHECKSUM_DOESNT_MATCH")

    # --- transport ----------------------------------------------------------------------
    def test_chunked_body_and_keep_alive(self):
        u = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            hdrs = {"X-ClickHouse-User": USER, "X-ClickHouse-Key": PASSWORD}
            conn.request("POST", "/?query=" + urllib.parse.quote("SELECT"), body=iter([b"4", b"2\n"]),
                         headers=hdrs, encode_chunked=True)
            resp = conn.getresponse()
            self.assertEqual((resp.status, resp.read()), (200, b"42\n"))
            # Same connection again, with an error in between.
            conn.request("POST", "/", body=b"SELEC", headers=hdrs)
            resp = conn.getresponse()
            self.assertEqual(resp.status, 400)
            resp.read()
            conn.request("GET", "/?query=SELECT%202", headers=hdrs)
            resp = conn.getresponse()
            self.assertEqual((resp.status, resp.read()), (200, b"2\n"))
        finally:
            conn.close()

    def test_zz_latency(self):
        """Not a conformance check: measures a trivial query over one keep-alive connection."""
        u = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        hdrs = {"X-ClickHouse-User": USER, "X-ClickHouse-Key": PASSWORD}
        times = []
        try:
            for _ in range(300):
                t = time.perf_counter()
                conn.request("GET", "/?query=SELECT%201", headers=hdrs)
                resp = conn.getresponse()
                resp.read()
                times.append(time.perf_counter() - t)
        finally:
            conn.close()
        times.sort()
        med, p99 = times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000
        print("\n  harness start-up %.2fs; SELECT 1 over keep-alive: median %.2f ms, p99 %.2f ms"
              % (self.startup, med, p99), file=sys.stderr)
        self.assertLess(med, 50)


def make_certificates(d):
    """A CA (ca.crt) and a certificate it signed for 127.0.0.1 (server.crt, server.key) in d, with openssl."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=harness test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
        "-out", "server.csr")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "server.ext", "-out", "server.crt")


class TLSTest(unittest.TestCase):
    def test_https_with_a_certificate_of_a_private_ca(self):
        tmp = tempfile.mkdtemp(prefix="ch-http-tls-")
        try:
            make_certificates(tmp)
            proc, url, _ = start_harness(os.path.join(tmp, "data"), "--tls-cert", os.path.join(tmp, "server.crt"),
                                         "--tls-key", os.path.join(tmp, "server.key"))
            try:
                self.assertTrue(url.startswith("https://127.0.0.1:"), url)
                trusted = ssl.create_default_context(cafile=os.path.join(tmp, "ca.crt"))
                req = urllib.request.Request(url + "/?query=SELECT%201", headers={
                    "X-ClickHouse-User": USER, "X-ClickHouse-Key": PASSWORD})
                with urllib.request.urlopen(req, timeout=30, context=trusted) as r:
                    self.assertEqual(r.read(), b"1\n")
                # Without the CA the certificate is not trusted; the harness keeps serving.
                with self.assertRaises(urllib.error.URLError) as e:
                    urllib.request.urlopen(req, timeout=30, context=ssl.create_default_context())
                self.assertIn("CERTIFICATE_VERIFY_FAILED", str(e.exception))
                with urllib.request.urlopen(req, timeout=30, context=trusted) as r:
                    self.assertEqual(r.read(), b"1\n")
            finally:
                stop_harness(proc)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class PersistenceTest(Base):
    def test_data_survives_a_restart(self):
        tmp = tempfile.mkdtemp(prefix="ch-http-persist-")
        data = os.path.join(tmp, "data")
        try:
            proc, Base_url, _ = start_harness(data)
            self.url = Base_url
            try:
                self.ok(body="CREATE TABLE keep (a UInt8) ENGINE = MergeTree ORDER BY a")
                self.ok("INSERT INTO keep FORMAT TabSeparated", body="1\n2\n")
            finally:
                stop_harness(proc)
            proc, self.url, _ = start_harness(data)
            try:
                self.assertEqual(self.ok("SELECT sum(a) FROM keep").body, b"3\n")
            finally:
                stop_harness(proc)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
