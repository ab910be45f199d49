"""CPU time and peak RSS of a process and its descendants, read from /proc.

CPU: utime + stime (+ cutime + cstime of the root, so children it reaped still count),
plus utime + stime of live descendants, in seconds (resolution: one clock tick, 10 ms).
Peak RSS: VmHWM (the kernel's high-water mark) summed over the tree, in bytes.
"""

import os

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # Field 2 (comm) may hold spaces and parentheses: split after the last ')'.
    rest = raw[raw.rindex(b")") + 2:].split()
    # rest[0] is field 3 (state): field N is rest[N - 3].
    return {"ppid": int(rest[1]), "utime": int(rest[11]), "stime": int(rest[12]),
            "cutime": int(rest[13]), "cstime": int(rest[14])}


def _hwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(root):
    """Returns the live pids under `root` (not including it)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _stat(int(name))
        if st:
            children.setdefault(st["ppid"], []).append(int(name))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


class Tree:
    """Samples one process tree. `sample()` returns (cpu_s, peak_rss_bytes) or None if gone.

    The last successful sample is remembered (`last`) so a tree that exits between samples
    still reports its final figures."""

    def __init__(self, root_pid):
        self.root = root_pid
        self.last = (0.0, 0)
        self._kids = []

    def sample(self, rescan=True):
        st = _stat(self.root)
        if st is None:
            return None
        if rescan:
            self._kids = descendants(self.root)
        ticks = st["utime"] + st["stime"] + st["cutime"] + st["cstime"]
        rss = _hwm(self.root)
        for k in self._kids:
            kst = _stat(k)
            if kst:
                ticks += kst["utime"] + kst["stime"]
                rss += _hwm(k)
        self.last = (ticks / _TICK, rss)
        return self.last
