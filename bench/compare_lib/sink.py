"""Counting TCP sink for bench/compare: the receiving end for rsyslog, syslog-ng and cat.

Accepts any number of connections on 127.0.0.1, counts newline-terminated lines and bytes,
and stores nothing. The count is published in a shared-memory counter so the orchestrator
can poll it without a round trip; when `record` is set, the sink also keeps a timeline of
(CLOCK_MONOTONIC ns, cumulative lines) after every recv(), used for latency.

Standalone (for a manual check): python3 sink.py [--port P]  (prints the count every second)
"""

import argparse
import multiprocessing as mp
import selectors
import signal
import socket
import sys
import time

_BUF = 1 << 20


class Sink:
    """Runs the sink in a forked child process. Start with `start()`, poll `lines()`."""

    def __init__(self, port=0):
        ctx = mp.get_context("fork")
        self._lines = ctx.Value("q", 0, lock=False)
        self._bytes = ctx.Value("q", 0, lock=False)
        self._record = ctx.Value("b", 0, lock=False)
        self._parent, child = ctx.Pipe()
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind(("127.0.0.1", port))
        self._lsock.listen(16)
        self.port = self._lsock.getsockname()[1]
        self._proc = ctx.Process(target=_serve, args=(self._lsock, self._lines, self._bytes,
                                                      self._record, child), daemon=True)
        self._proc.start()
        self._lsock.close()
        self.pid = self._proc.pid

    def lines(self):
        return self._lines.value

    def bytes(self):
        return self._bytes.value

    def start_timeline(self):
        self._record.value = 1

    def timeline(self, timeout_s=10.0):
        """Stops recording and returns [(t_ns, cumulative_lines), ...]."""
        self._record.value = 0
        self._parent.send("timeline")
        if not self._parent.poll(timeout_s):
            raise RuntimeError("sink: no answer to the timeline request")
        return self._parent.recv()

    def stop(self):
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(5)


def _serve(lsock, lines, nbytes, record, ctl):
    # The orchestrator stops this child; Ctrl-C on the terminal is its business.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    sel = selectors.DefaultSelector()
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, "accept")
    sel.register(ctl, selectors.EVENT_READ, "ctl")
    buf = bytearray(_BUF)
    timeline = []
    total_lines = 0
    total_bytes = 0
    clock = time.monotonic_ns
    while True:
        for key, _ in sel.select():
            what = key.data
            if what == "accept":
                try:
                    conn, _ = lsock.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
                sel.register(conn, selectors.EVENT_READ, "conn")
            elif what == "ctl":
                try:
                    cmd = ctl.recv()
                except EOFError:
                    return
                if cmd == "timeline":
                    ctl.send(timeline)
                    timeline = []
            else:
                conn = key.fileobj
                try:
                    n = conn.recv_into(buf)
                except BlockingIOError:
                    continue
                except OSError:
                    n = 0
                if n == 0:
                    sel.unregister(conn)
                    conn.close()
                    continue
                total_lines += buf.count(b"\n", 0, n)
                total_bytes += n
                lines.value = total_lines
                nbytes.value = total_bytes
                if record.value:
                    timeline.append((clock(), total_lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    s = Sink(a.port)
    print("sink on 127.0.0.1:%d" % s.port, flush=True)
    try:
        while True:
            time.sleep(1)
            print("%d lines, %d bytes" % (s.lines(), s.bytes()), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        s.stop()


if __name__ == "__main__":
    sys.exit(main())
