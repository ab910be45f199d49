"""Paced appender for bench/compare: writes lines to a file at a fixed rate.

Runs in a forked child so its own work does not disturb the orchestrator's polling. Every
10 ms tick it appends, in one write(2), the lines due by then (cumulative count =
rate x elapsed, on an absolute schedule so it does not drift), and records
(CLOCK_MONOTONIC ns right after the write, cumulative lines written).
"""

import multiprocessing as mp
import os
import signal
import time

TICK_S = 0.010


def _run(path, lines, rate, duration_s, conn):
    # The orchestrator stops this child; Ctrl-C on the terminal is its business.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    total = int(rate * duration_s)
    n = len(lines)
    timeline = []
    written = 0
    t0 = time.monotonic()
    k = 0
    while written < total:
        k += 1
        due = min(total, int(rate * TICK_S * k))
        if due > written:
            chunk = b"".join(lines[i % n] for i in range(written, due))
            os.write(fd, chunk)
            written = due
            timeline.append((time.monotonic_ns(), written))
        sleep = t0 + TICK_S * k - time.monotonic()
        if sleep > 0:
            time.sleep(sleep)
    os.close(fd)
    conn.send((timeline, time.monotonic() - t0))
    conn.close()


class Writer:
    """Starts at construction; `result()` waits and returns (timeline, seconds)."""

    def __init__(self, path, lines, rate, duration_s):
        ctx = mp.get_context("fork")
        self._parent, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_run, args=(path, lines, rate, duration_s, child),
                                 daemon=True)
        self._proc.start()
        child.close()
        self.total = int(rate * duration_s)

    def done(self):
        return self._parent.poll()

    def result(self, timeout_s):
        if not self._parent.poll(timeout_s):
            raise RuntimeError("writer: no result after %.0f s" % timeout_s)
        out = self._parent.recv()
        self._proc.join(5)
        return out

    def stop(self):
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)


def append_now(path, data):
    with open(path, "ab") as f:
        f.write(data)
