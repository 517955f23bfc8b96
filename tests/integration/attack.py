#!/usr/bin/python3
"""Hostile clients for the hardening tests (tests/integration/test_hardening_*.sh), as an
attacker would write them: many idle kept-alive TLS connections, inflatable bodies, and batches
that are valid JSON but absurd (huge inventories, huge cells, a million values).

Usage:
  attack.py idle PORT CA COUNT READY STOP REPORT  hold COUNT kept-alive connections (one
                                                   /api/v1/health each); write READY once opened,
                                                   wait for the file STOP, write REPORT (JSON)
  attack.py latency PORT CA COUNT OUT               COUNT /api/v1/health on one kept-alive connection,
                                                   each one's seconds in OUT, one a line
  attack.py inflatable OUT                          64 MiB that gzip to about 2 MB (ratio ~35)
  attack.py instances COLLECTOR AT COUNT OUT [SEQ]  one batch naming COUNT distinct instances
  attack.py databases COLLECTOR AT COUNT OUT [SEQ]  one batch with COUNT distinct database names
  attack.py text COLLECTOR AT BYTES OUT [SEQ]       one pg_log row whose message is BYTES long
  attack.py cells COLLECTOR AT CELLS OUT [SEQ]      about CELLS values in pg_stats_table rows
  attack.py number COLLECTOR AT LITERAL OUT [SEQ]   a float cell written as LITERAL (e.g. 1e999)
Batches are written gzip-compressed.
"""
import base64
import gzip
import json
import os
import resource
import socket
import ssl
import sys
import time


def tls_context(ca):
    context = ssl.create_default_context(cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    return context


def health(conn):
    """One /api/v1/health on a kept-alive connection (its JSON answer ends with '}')."""
    conn.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: attacker\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
        piece = conn.recv(4096)
        if not piece:
            raise ConnectionError("closed")
        answer += piece


def latency(port, ca, count, out):
    conn = tls_context(ca).wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
    times = []
    for _ in range(count):
        started = time.monotonic()
        health(conn)
        times.append(time.monotonic() - started)
        time.sleep(0.05)
    with open(out, "w") as f:
        f.write("".join("%.6f\n" % t for t in times))


def hold_idle(port, ca, count, ready, stop, report):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # as an attacker would
    context = tls_context(ca)
    held, failed, started = [], 0, time.monotonic()
    for _ in range(count):
        try:
            conn = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=3))
            health(conn)
            held.append(conn)
        except (OSError, ConnectionError):
            failed += 1
    opened = {"opened": len(held), "failed": failed, "seconds": round(time.monotonic() - started, 2)}
    with open(ready, "w") as out:
        json.dump(opened, out)
    while not os.path.exists(stop):
        time.sleep(0.1)
    still_open = 0
    for conn in held:
        conn.setblocking(False)
        try:
            still_open += 1 if conn.recv(1) else 0  # b"": the server closed it
        except ssl.SSLWantReadError:
            still_open += 1
        except OSError:
            pass
    with open(report, "w") as out:
        json.dump(dict(opened, still_open=still_open), out)


def compressible(size):
    """`size` bytes of JSON-safe text that gzip about 35:1: within the server's 100:1 ratio."""
    filler = b"family pg_stats_table rows 1 2 3 4 5 6 7 8 " * 20
    data = bytearray()
    while len(data) < size:
        data += base64.b64encode(os.urandom(24)) + filler
    return bytes(data[:size])


def inflatable(out):
    with open(out, "wb") as f:
        f.write(gzip.compress(compressible(64 * 1024 * 1024), 6))


def batch(collector, at, samples, seq):
    return {"collector_id": collector, "seq": seq, "sent_at": at,
            "agent": {"version": "0.1.0-attack", "hostname": "attacker"}, "samples": samples, "dropped": []}


def sample(family, at, columns, rows, instance="main"):
    s = {"family": family, "at": at, "columns": columns, "rows": rows}
    if instance is not None:
        s["instance"] = instance
    return s


def write_batch(out, value, raw_replace=None):
    text = json.dumps(value, separators=(",", ":"))
    if raw_replace:
        text = text.replace(*raw_replace)
    with open(out, "wb") as f:
        f.write(gzip.compress(text.encode(), 6))


def main(argv):
    what = argv[1]
    if what == "idle":
        hold_idle(int(argv[2]), argv[3], int(argv[4]), argv[5], argv[6], argv[7])
        return
    if what == "latency":
        latency(int(argv[2]), argv[3], int(argv[4]), argv[5])
        return
    if what == "inflatable":
        inflatable(argv[2])
        return
    collector, at, amount, out = argv[2], argv[3], argv[4], argv[5]
    seq = int(argv[6]) if len(argv) > 6 else 1
    if what == "instances":
        samples = [sample("pg_instance", at, ["up"], [[True]], instance="fake-%d-%d" % (seq, i)) for i in range(int(amount))]
        write_batch(out, batch(collector, at, samples, seq))
    elif what == "databases":
        rows = [["db_%d" % i, i] for i in range(int(amount))]
        write_batch(out, batch(collector, at, [sample("pg_stats_database", at, ["datname", "xact_commit"], rows)], seq))
    elif what == "text":
        rows = [["other", "LOG", compressible(int(amount)).decode()]]
        write_batch(out, batch(collector, at, [sample("pg_log", at, ["event", "severity", "message"], rows)], seq))
    elif what == "cells":
        columns = ["datname", "schemaname", "relname", "seq_scan", "seq_tup_read", "idx_scan", "n_tup_ins",
                   "n_tup_upd", "n_tup_del", "n_live_tup", "n_dead_tup"]
        rows = [["app", "public", "t%d" % i] + [i * 7 + c for c in range(8)]
                for i in range(int(amount) // len(columns))]
        write_batch(out, batch(collector, at, [sample("pg_stats_table", at, columns, rows)], seq))
    elif what == "number":
        rows = [["app", 1, 7.5]]
        value = batch(collector, at, [sample("pg_stats_database", at, ["datname", "xact_commit", "blk_read_time"], rows)], seq)
        write_batch(out, value, raw_replace=("7.5", amount))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
