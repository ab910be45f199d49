"""Deterministic log workload for bench/compare.

The same (seed, lines) always gives the same bytes, on any Python 3 version: the generator
uses its own SplitMix64 instead of `random`, whose algorithms may change between releases.
The mix is what a server image logs: ~70 % plain syslog-style lines (nginx access, sshd,
kernel, systemd, cron, application text) and ~30 % JSON lines from a structured logger,
about 200 bytes on average, each ending in one LF.

Standalone: python3 workload.py OUT --lines 2000000 --seed 42
"""

import argparse
import hashlib
import os
import sys

_MASK = (1 << 64) - 1
_BASE_EPOCH = 1709251200  # 2024-03-01T00:00:00Z


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & _MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def pick(self, seq):
        return seq[self.next() % len(seq)]

    def hex(self, digits):
        return format(self.next() & ((1 << (4 * digits)) - 1), "0%dx" % digits)


_HOSTS = ["web-%02d" % i for i in range(1, 25)] + ["db-01", "db-02", "cache-01", "worker-07"]
_PATHS = ["/api/v1/items", "/api/v1/orders", "/api/v2/users", "/healthz", "/static/app.js",
          "/api/v1/search", "/login", "/api/v1/cart", "/metrics", "/api/v2/payments"]
_METHODS = ["GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"]
_STATUSES = [200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 502, 503]
_AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
           "curl/7.88.1", "Go-http-client/1.1", "kube-probe/1.29",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15"]
_USERS = ["deploy", "root", "admin", "ubuntu", "ci", "backup"]
_UNITS = ["nginx.service", "app.service", "node-exporter.service", "logrotate.service",
          "apt-daily.service", "containerd.service"]
_LEVELS = ["info", "info", "info", "info", "debug", "warn", "error"]
_LOGGERS = ["app.http", "app.db", "app.cache", "app.auth", "app.jobs", "app.payments"]
_MESSAGES = ["request completed", "cache miss", "query executed", "token refreshed",
             "job finished", "retrying upstream call", "connection pool exhausted",
             "payment authorised", "user session created", "slow query detected"]
_WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
          "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo"]


def _ts_syslog(t_ms):
    s, ms = divmod(t_ms, 1000)
    # Hand-rolled UTC formatting (faster than datetime for 2 M lines, same result).
    days, rem = divmod(s, 86400)
    hh, rem = divmod(rem, 3600)
    mm, ss = divmod(rem, 60)
    y, mo, d = _civil_from_days(days)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00" % (y, mo, d, hh, mm, ss, ms)


def _civil_from_days(z):
    # Howard Hinnant's days -> (y, m, d) algorithm.
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + (m <= 2), m, d)


def _ip(r):
    return "10.%d.%d.%d" % (r.below(8), r.below(256), 1 + r.below(254))


def _line(r, t_ms):
    ts = _ts_syslog(t_ms)
    host = r.pick(_HOSTS)
    kind = r.below(100)
    if kind < 30:  # nginx access log through syslog
        return ('%s %s nginx[%d]: %s - - "%s %s/%d?page=%d HTTP/1.1" %d %d "-" "%s" rt=%.3f'
                % (ts, host, 1000 + r.below(30000), _ip(r), r.pick(_METHODS), r.pick(_PATHS),
                   r.below(100000), r.below(20), r.pick(_STATUSES), r.below(60000),
                   r.pick(_AGENTS), r.below(2000) / 1000.0))
    if kind < 40:  # sshd / auth
        return ("%s %s sshd[%d]: Accepted publickey for %s from %s port %d ssh2: "
                "ED25519 SHA256:%s%s" % (ts, host, 1000 + r.below(30000), r.pick(_USERS), _ip(r),
                                         1024 + r.below(60000), r.hex(16), r.hex(16)))
    if kind < 48:  # kernel
        return ("%s %s kernel: [%d.%06d] eth0: tx timeout on queue %d, resetting adapter; "
                "netdev watchdog cpu=%d pid=%d comm=%s" % (ts, host, r.below(900000),
                                                           r.below(1000000), r.below(16),
                                                           r.below(64), r.below(40000),
                                                           r.pick(_WORDS)))
    if kind < 58:  # systemd
        return ("%s %s systemd[1]: %s: Consumed %d.%03ds CPU time, %d.%dM memory peak, "
                "restart counter is at %d." % (ts, host, r.pick(_UNITS), r.below(100),
                                               r.below(1000), r.below(900), r.below(10),
                                               r.below(50)))
    if kind < 70:  # application text log
        words = " ".join(r.pick(_WORDS) for _ in range(3 + r.below(8)))
        return ("%s %s app[%d]: %s %s request_id=%s user=%d msg=\"%s\" %s" % (
            ts, host, 1000 + r.below(30000), r.pick(_LEVELS).upper(), r.pick(_LOGGERS),
            r.hex(16), r.below(1000000), r.pick(_MESSAGES), words))
    # JSON from a structured logger
    return ('{"ts":"%s","host":"%s","level":"%s","logger":"%s","msg":"%s","method":"%s",'
            '"path":"%s/%d","status":%d,"duration_ms":%d.%d,"trace_id":"%s%s","bytes":%d}'
            % (ts, host, r.pick(_LEVELS), r.pick(_LOGGERS), r.pick(_MESSAGES), r.pick(_METHODS),
               r.pick(_PATHS), r.below(100000), r.pick(_STATUSES), r.below(3000), r.below(10),
               r.hex(16), r.hex(16), r.below(100000)))


def lines(count, seed):
    """Yields `count` lines as str without the trailing LF."""
    r = SplitMix64(seed)
    t_ms = _BASE_EPOCH * 1000
    for _ in range(count):
        t_ms += r.below(5)
        yield _line(r, t_ms)


def generate(path, count, seed):
    """Writes the workload to `path` (atomically) and returns (bytes, sha256 hex)."""
    tmp = path + ".tmp"
    h = hashlib.sha256()
    total = 0
    with open(tmp, "wb") as f:
        buf = []
        for i, s in enumerate(lines(count, seed)):
            buf.append(s)
            if len(buf) == 10000:
                b = ("\n".join(buf) + "\n").encode()
                f.write(b)
                h.update(b)
                total += len(b)
                buf.clear()
        if buf:
            b = ("\n".join(buf) + "\n").encode()
            f.write(b)
            h.update(b)
            total += len(b)
    os.replace(tmp, path)
    return total, h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--lines", type=int, default=2000000)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    size, digest = generate(a.out, a.lines, a.seed)
    print("%s: %d lines, %d bytes (%.1f B/line), sha256 %s"
          % (a.out, a.lines, size, size / max(a.lines, 1), digest))


if __name__ == "__main__":
    sys.exit(main())
