"""The systems bench/compare runs: cat (the ceiling), rsyslog, syslog-ng and Blackbox.

Each system has a receiving end (`start_receiver`) and a shipper reading one file
(`start_shipper`), and reports how many lines have reached the receiving end (`delivered`):
for the peers and cat, newline-terminated lines counted by the TCP sink; for Blackbox, records
whose durable acknowledgement the agent holds (see Blackbox). Every process runs
in its own session (process group) and `stop()` kills the group: nothing outlives a phase.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import time

from procstat import Tree
from sink import Sink

_HERE = os.path.dirname(os.path.abspath(__file__))


class BenchError(Exception):
    pass


def _tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class Proc:
    """A spawned process in its own process group, output to a log file."""

    def __init__(self, name, argv, log_path, env=None, stdout=None):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=stdout if stdout is not None else self._log,
            stderr=self._log, start_new_session=True,
            env=dict(os.environ, **(env or {})))
        self.pid = self.popen.pid
        self.tree = Tree(self.pid)
        self.rusage = None

    def alive(self):
        return self.popen.poll() is None

    def check(self):
        if not self.alive():
            raise BenchError("%s exited with status %s; last output (%s):\n%s"
                             % (self.name, self.popen.returncode, self.log_path,
                                _tail(self.log_path)))

    def wait_exit(self, timeout_s):
        """Waits for a natural exit and keeps its rusage (for processes that end themselves)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pid, status, ru = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.rusage = ru
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                return True
            time.sleep(0.005)
        return False

    def stop(self, grace_s=5.0):
        if self.popen.returncode is None and self.popen.poll() is None:
            for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.popen.wait(wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # The group may hold children that outlived the leader.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()


_help_cache = {}


def _help(binary):
    if binary not in _help_cache:
        try:
            r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
            _help_cache[binary] = r.stdout + r.stderr
        except (OSError, subprocess.TimeoutExpired):
            _help_cache[binary] = ""
    return _help_cache[binary]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _fill(template, **values):
    with open(os.path.join(_HERE, template)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, str(v))
    return text


class System:
    """Base: a sink as the receiving end and one shipper process."""

    name = "?"
    poll_s = 0.005  # how often the orchestrator may call delivered()

    def __init__(self, workdir):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.sink = None
        self.procs = []

    def start_receiver(self):
        self.sink = Sink()

    def delivered(self):
        return self.sink.lines()

    def caught_up(self, lines_in_file):
        """True once every line of the file is at the receiving end."""
        return self.sink.lines() >= lines_in_file

    def start_timeline(self):
        self.sink.start_timeline()

    def poll_timeline(self):
        pass  # the sink records its own timeline

    def timeline(self):
        return self.sink.timeline()

    def trees(self):
        """{role: Tree} of the processes whose cost is reported."""
        return {"shipper": self.procs[0].tree} if self.procs else {}

    def check(self):
        for p in self.procs:
            p.check()

    def diagnose(self):
        """A line of state for error messages (what the receiving end has seen)."""
        return "sink has %d lines, %d bytes" % (self.sink.lines(), self.sink.bytes()) \
            if self.sink else ""

    def stop(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []
        if self.sink:
            self.sink.stop()
            self.sink = None


class Cat(System):
    """`cat FILE > /dev/tcp/127.0.0.1/PORT`: no parsing, no framing, the physical ceiling."""

    name = "cat"

    def start_shipper(self, path):
        argv = ["bash", "-c", 'exec cat "$0" > /dev/tcp/127.0.0.1/$1', path, str(self.sink.port)]
        self.procs.append(Proc("cat", argv, os.path.join(self.workdir, "cat.log")))

    def check(self):
        p = self.procs[0]
        if p.popen.returncode is None and p.rusage is None:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                p.rusage = ru
                p.popen.returncode = os.waitstatus_to_exitcode(status)
        if p.popen.returncode not in (None, 0):
            super().check()

    def cost(self):
        """cat exits when done: its exact cost comes from wait4's rusage."""
        p = self.procs[0]
        if p.rusage is None:
            p.wait_exit(10)
        if p.rusage is None:
            return None
        return (p.rusage.ru_utime + p.rusage.ru_stime, p.rusage.ru_maxrss * 1024)


class Rsyslog(System):
    name = "rsyslog"

    def __init__(self, workdir, peer):
        super().__init__(workdir)
        self.peer = peer

    def start_shipper(self, path):
        work = os.path.join(self.workdir, "rsyslog-work")
        os.makedirs(work, exist_ok=True)
        conf = os.path.join(self.workdir, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(_fill("rsyslog.conf.in", WORKDIR=work, PORT=self.sink.port, INPUT=path))
        argv = ([self.peer.binary, "-n", "-f", conf, "-i", os.path.join(self.workdir, "rsyslog.pid")]
                + self.peer.args)
        self.procs.append(Proc("rsyslogd", argv, os.path.join(self.workdir, "rsyslog.log"),
                               env=self.peer.env))


class SyslogNg(System):
    name = "syslog-ng"

    def __init__(self, workdir, peer, version):
        super().__init__(workdir)
        self.peer = peer
        self.version = version

    def start_shipper(self, path):
        conf = os.path.join(self.workdir, "syslog-ng.conf")
        with open(conf, "w") as f:
            f.write(_fill("syslog-ng.conf.in", VERSION=self.version, PORT=self.sink.port,
                          INPUT=path))
        w = self.workdir
        argv = ([self.peer.binary, "-F", "-e", "--no-caps", "-f", conf,
                 "--persist-file", os.path.join(w, "syslog-ng.persist"),
                 "--pidfile", os.path.join(w, "syslog-ng.pid"),
                 "--control", os.path.join(w, "syslog-ng.ctl")] + self.peer.args)
        self.procs.append(Proc("syslog-ng", argv, os.path.join(w, "syslog-ng.log"),
                               env=self.peer.env))


def parse_metric(text, name):
    """Sum of every series of `name` (any labels) in Prometheus text format, or None."""
    total, seen = 0.0, False
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        rest = line[len(name):]
        if rest[:1] not in ("{", " "):
            continue
        try:
            total += float(line.rsplit(None, 1)[1])
            seen = True
        except (ValueError, IndexError):
            continue
    return int(total) if seen else None


class MetricsClient:
    """GET /metrics over one kept-alive HTTP connection (reconnects on error)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conn = None

    def get(self, timeout_s=2.0):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port,
                                                           timeout=timeout_s)
                self.conn.request("GET", "/metrics")
                r = self.conn.getresponse()
                body = r.read().decode(errors="replace")
                if r.status != 200:
                    raise BenchError("GET http://%s:%d/metrics: HTTP %d"
                                     % (self.host, self.port, r.status))
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return body
            except (OSError, http.client.HTTPException):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return ""

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


STORED = "blackbox_collector_records_stored_total"
ACKED = "blackbox_agent_records_acked_total"
READ = "blackbox_agent_lines_read_total"
SPOOLED = "blackbox_agent_records_spooled_total"
AGENT_METRICS_GRACE_S = 10.0  # how long the agent's /metrics may be unreachable


class Blackbox(System):
    """blackbox-agent → blackbox-collector (RocksDB, default durability policy).

    A line counts as delivered when the agent has received the collector's acknowledgement
    for it (blackbox_agent_records_acked_total): the collector acknowledges only after the
    batch is in RocksDB with a synced write, so this is "durable and acknowledged". The
    agent also spools records that are not lines (its start-up "hello" lifecycle record): a
    phase is complete when every line was read, spooled and acknowledged (caught_up).
    The collector's blackbox_collector_records_stored_total, when its HTTP API is up, is
    recorded as a cross-check."""

    name = "blackbox"
    poll_s = 0.020

    def __init__(self, workdir, agent_bin, collector_bin, startup_timeout_s=30.0):
        super().__init__(workdir)
        self.agent_bin = agent_bin
        self.collector_bin = collector_bin
        self.startup_timeout_s = startup_timeout_s
        self.collector = None
        self.agent = None
        self.cmetrics = None
        self.ametrics = None
        self._timeline = None
        self._last = {}
        self._last_ok = None
        self.offset = 0  # acknowledged records that are not workload lines

    def start_receiver(self):
        data = os.path.join(self.workdir, "collector-data")
        os.makedirs(data, exist_ok=True)
        log = os.path.join(self.workdir, "collector.log")
        self.collector = Proc("blackbox-collector",
                              [self.collector_bin, "--data-dir", data,
                               "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"]
                              + self.collector_args(), log)
        self.procs.append(self.collector)
        ingest = http = None
        deadline = time.monotonic() + self.startup_timeout_s
        http_deadline = None
        while time.monotonic() < deadline:
            self.collector.check()
            text = _tail(log, 200)
            m = re.search(r"http[^\n]*? on ([0-9.]+):(\d+)", text, re.I)
            if m:
                http = (m.group(1), int(m.group(2)))
            for m in re.finditer(r"^(.*)listening on ([0-9.]+):(\d+)", text, re.M):
                if "http" not in m.group(1).lower():
                    ingest = (m.group(2), int(m.group(3)))
            if ingest and http_deadline is None:
                http_deadline = time.monotonic() + 2.0
            if ingest and (http or time.monotonic() > http_deadline):
                break
            time.sleep(0.02)
        if not ingest:
            raise BenchError("blackbox-collector did not log 'listening on HOST:PORT' within "
                             "%.0f s; log %s:\n%s" % (self.startup_timeout_s, log, _tail(log)))
        self.ingest_addr = ingest
        if http:
            self.cmetrics = MetricsClient(*http)

    def collector_args(self):
        """Extra collector flags (BlackboxTls: its config)."""
        return []

    def agent_args(self):
        """Extra agent flags (BlackboxTls: its config)."""
        return []

    def stored(self):
        """The collector's records_stored_total, or None (no HTTP API, metric missing)."""
        if not self.cmetrics:
            return None
        try:
            return parse_metric(self.cmetrics.get(), STORED)
        except (OSError, http.client.HTTPException, BenchError):
            return None

    def start_shipper(self, path):
        state = os.path.join(self.workdir, "agent-state")
        os.makedirs(state, exist_ok=True)
        mport = free_port()
        argv = [self.agent_bin, "--collector", "%s:%d" % self.ingest_addr,
                "--instance-id", "bench-1", "--state-dir", state, "--file", path,
                "--read-from", "beginning", "--metrics-listen", "127.0.0.1:%d" % mport]
        argv += self.agent_args()
        if "--image-id" in _help(self.agent_bin):
            # The default image id comes from a file baked into the image (absent here).
            argv += ["--image-id", "bench-image"]
        self.agent = Proc("blackbox-agent", argv, os.path.join(self.workdir, "agent.log"))
        self.procs.insert(0, self.agent)
        self.ametrics = MetricsClient("127.0.0.1", mport)
        self._last_ok = time.monotonic()

    def _agent(self):
        """{READ, SPOOLED, ACKED: value} from the agent, the last known values while its
        endpoint is briefly unreachable (start-up), BenchError past the grace period."""
        try:
            text = self.ametrics.get(timeout_s=2.0)
        except (OSError, http.client.HTTPException, BenchError) as e:
            self.check()
            if time.monotonic() - self._last_ok > AGENT_METRICS_GRACE_S:
                raise BenchError("agent GET /metrics on 127.0.0.1:%d failing for %.0f s: %s"
                                 % (self.ametrics.port, AGENT_METRICS_GRACE_S, e))
            return self._last or {READ: 0, SPOOLED: 0, ACKED: 0}
        vals = {k: parse_metric(text, k) for k in (READ, SPOOLED, ACKED)}
        missing = [k for k, v in vals.items() if v is None]
        if missing:
            raise BenchError("agent /metrics lacks %s; got:\n%s" % (", ".join(missing),
                                                                     text[:1500]))
        self._last, self._last_ok = vals, time.monotonic()
        return vals

    def delivered(self):
        return self._agent()[ACKED] - self.offset

    def caught_up(self, lines_in_file):
        # Every line read, every line spooled (spooled also counts the non-line records, so
        # this may fire while as many lines as there are such records, usually the one
        # start-up record, are still in a batch being cut), and everything spooled acked.
        v = self._agent()
        return (v[READ] >= lines_in_file and v[SPOOLED] >= v[READ]
                and v[ACKED] >= v[SPOOLED])

    def agent_counts(self):
        try:
            v = self._agent()
        except BenchError:
            return {}
        return {"agent_lines_read": v[READ], "agent_records_spooled": v[SPOOLED],
                "agent_records_acked": v[ACKED], "collector_records_stored": self.stored()}

    def diagnose(self):
        try:
            counts = self.agent_counts()
        except BenchError as e:
            counts = str(e)
        return ("%s (offset %d); agent log tail:\n%s\ncollector log tail:\n%s"
                % (counts, self.offset, _tail(self.agent.log_path, 8) if self.agent else "",
                   _tail(self.collector.log_path, 8) if self.collector else ""))

    def start_timeline(self):
        self._timeline = []

    def poll_timeline(self):
        if self._timeline is not None:
            self._timeline.append((time.monotonic_ns(), self.delivered()))

    def timeline(self):
        t, self._timeline = self._timeline or [], None
        return t

    def trees(self):
        out = {}
        if self.agent:
            out["shipper"] = self.agent.tree
        if self.collector:
            out["collector"] = self.collector.tree
        return out

    def stop(self):
        for c in (self.cmetrics, self.ametrics):
            if c:
                c.close()
        # The agent first, while its collector is still there for its goodbye.
        if self.agent:
            self.agent.stop()
        super().stop()
        self.agent = self.collector = None


def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class BlackboxTls(Blackbox):
    """Blackbox with TLS 1.3 on the ingest port (issue 12): the same agent → collector, the
    agent verifying the collector's certificate. A CA and a server certificate for 127.0.0.1
    are made at run time in the work folder (openssl); nothing is kept. Compare with the
    "blackbox" system of the same run for the cost of TLS."""

    name = "blackbox-tls"

    def _pki(self):
        pki = os.path.join(self.workdir, "pki")
        if os.path.isdir(pki):
            return pki
        os.makedirs(pki)
        ca_key, ca, key, csr, crt, ext = (os.path.join(pki, n) for n in (
            "ca.key", "ca.pem", "server.key", "server.csr", "server.pem", "server.ext"))
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", ca_key)
        _openssl("req", "-x509", "-new", "-key", ca_key, "-out", ca, "-days", "2",
                 "-subj", "/CN=bench-ca")
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", key)
        os.chmod(key, 0o600)
        _openssl("req", "-new", "-key", key, "-out", csr, "-subj", "/CN=localhost")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                 "-out", crt, "-days", "2", "-extfile", ext)
        return pki

    def _config(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def collector_args(self):
        pki = self._pki()
        return ["--config", self._config("collector-tls.toml",
                                         '[tls]\ncert_file = "%s/server.pem"\n'
                                         'key_file = "%s/server.key"\n' % (pki, pki))]

    def agent_args(self):
        pki = self._pki()
        return ["--config", self._config("agent-tls.toml",
                                         '[ship]\ntls = true\ntls_ca_file = "%s/ca.pem"\n'
                                         % pki)]
