"""Finds or installs the peers (rsyslog, syslog-ng) and gnuplot from Debian packages.

rsyslog and syslog-ng-core both provide `system-log-daemon` and conflict with each other, so
apt can install only one of them. Whichever cannot be installed (or would remove the other) is
unpacked from its Debian package into a private prefix under the cache folder
(`apt-get download` + `dpkg-deb -x`) after its library dependencies are installed with apt; it
then runs from there with LD_LIBRARY_PATH and an explicit module path. Nothing is configured or
started system-wide: service starts during installation are blocked by /usr/sbin/policy-rc.d
(installed temporarily when absent), and every peer runs in the foreground with its own config.
"""

import os
import shutil
import subprocess
import sys

POLICY_RC = "/usr/sbin/policy-rc.d"


class Peer:
    """How to run one peer: the binary, extra args and environment."""

    def __init__(self, name, binary, args=(), env=None, origin="system"):
        self.name = name
        self.binary = binary
        self.args = list(args)
        self.env = env or {}
        self.origin = origin

    def version(self):
        """First line of the binary's version output, or "?"."""
        argv = [self.binary, "-v"] if self.name == "rsyslog" else (
            [self.binary, "--version"] + self.args)
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10,
                                 env=dict(os.environ, **self.env)).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        first = out.splitlines()[0] if out else "?"
        # rsyslogd -v: "rsyslogd  8.2302.0 (aka 2023.02) compiled with:"
        return " ".join(first.replace("compiled with:", "").split()).rstrip(",")


def _log(msg):
    print("compare: " + msg, file=sys.stderr, flush=True)


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class _ServiceGuard:
    """Keeps services from starting while apt runs: a temporary policy-rc.d exiting 101."""

    def __enter__(self):
        self.created = False
        if not os.path.exists(POLICY_RC):
            with open(POLICY_RC, "w") as f:
                f.write("#!/bin/sh\n# temporary, from blackbox bench/compare\nexit 101\n")
            os.chmod(POLICY_RC, 0o755)
            self.created = True
        return self

    def __exit__(self, *exc):
        if self.created:
            os.unlink(POLICY_RC)


_updated = False


def _apt_install(pkgs):
    """apt-get install, with one `apt-get update` retry. Refuses anything that removes a
    package. Returns (ok, message)."""
    global _updated
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for attempt in range(2):
        sim = _run(["apt-get", "install", "-s", "-y", "--no-install-recommends"] + pkgs, env=env)
        if sim.returncode == 0:
            removals = [l.split()[1] for l in sim.stdout.splitlines() if l.startswith("Remv ")]
            if removals:
                return False, "would remove " + " ".join(removals)
            with _ServiceGuard():
                res = _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + pkgs,
                           env=env)
            if res.returncode == 0:
                return True, ""
            return False, res.stderr.strip()[-400:]
        if _updated or attempt:
            return False, sim.stderr.strip()[-400:]
        _log("apt-get update")
        _run(["apt-get", "update", "-qq"], env=env)
        _updated = True
    return False, "apt-get failed"


def _installed(pkg):
    r = _run(["dpkg-query", "-W", "-f=${Status}", pkg])
    return r.returncode == 0 and "install ok installed" in r.stdout


def _depends(pkg):
    """First alternative of every Depends/PreDepends of `pkg`."""
    out = _run(["apt-cache", "depends", pkg]).stdout.splitlines()
    deps, alt_open = [], False
    for line in out:
        s = line.strip()
        if not (s.startswith("Depends:") or s.startswith("|Depends:")
                or s.startswith("PreDepends:") or s.startswith("|PreDepends:")):
            continue
        name = s.split(":", 1)[1].strip().strip("<>")
        if not alt_open:
            deps.append(name)
        alt_open = s.startswith("|")
    return deps


def _unpack(pkg, cache):
    """Unpacks `pkg` into cache/pkg/root after installing its dependencies; returns the root."""
    root = os.path.join(cache, pkg, "root")
    if os.path.isdir(root):
        return root
    deps = [d for d in _depends(pkg) if not _installed(d)]
    if deps:
        ok, why = _apt_install(deps)
        if not ok:
            raise RuntimeError("cannot install dependencies of %s (%s): %s"
                               % (pkg, " ".join(deps), why))
    d = os.path.join(cache, pkg)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".deb"):
            os.unlink(os.path.join(d, f))
    r = _run(["apt-get", "download", pkg], cwd=d)
    debs = [f for f in os.listdir(d) if f.endswith(".deb")]
    if not debs:
        raise RuntimeError("apt-get download %s failed: %s" % (pkg, r.stderr.strip()[-400:]))
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    r = _run(["dpkg-deb", "-x", os.path.join(d, debs[0]), tmp])
    if r.returncode != 0:
        raise RuntimeError("dpkg-deb -x %s failed: %s" % (debs[0], r.stderr.strip()))
    os.rename(tmp, root)
    return root


def _from_root(name, root):
    if name == "rsyslog":
        mod = os.path.join(root, "usr/lib/x86_64-linux-gnu/rsyslog")
        mods = [os.path.join(dp) for dp, _, fs in os.walk(os.path.join(root, "usr/lib"))
                if "imfile.so" in fs]
        return Peer(name, os.path.join(root, "usr/sbin/rsyslogd"),
                    ["-M", mods[0] if mods else mod], origin="unpacked in " + root)
    libdir = os.path.join(root, "usr/lib/syslog-ng")
    mods = [dp for dp, _, fs in os.walk(libdir) if "libaffile.so" in fs]
    return Peer(name, os.path.join(root, "usr/sbin/syslog-ng"),
                ["--module-path", mods[0] if mods else libdir],
                {"LD_LIBRARY_PATH": libdir}, origin="unpacked in " + root)


_PEERS = {"rsyslog": ("rsyslog", "rsyslogd"), "syslog-ng": ("syslog-ng-core", "syslog-ng")}


def find_peer(name, cache, allow_install=True):
    """Returns a Peer for 'rsyslog' or 'syslog-ng', installing it if needed and allowed."""
    pkg, binary = _PEERS[name]
    path = shutil.which(binary) or (("/usr/sbin/" + binary)
                                    if os.path.exists("/usr/sbin/" + binary) else None)
    if path:
        return Peer(name, path)
    root = os.path.join(cache, pkg, "root")
    if os.path.isdir(root):
        return _from_root(name, root)
    if not allow_install:
        raise RuntimeError("%s not found (install %s, or run without --no-install)"
                           % (binary, pkg))
    if os.geteuid() != 0:
        raise RuntimeError("%s not found and not root: apt-get install %s" % (binary, pkg))
    _log("installing %s" % pkg)
    ok, why = _apt_install([pkg])
    if ok:
        return Peer(name, shutil.which(binary) or "/usr/sbin/" + binary)
    _log("%s: apt-get install refused (%s); unpacking it into %s instead" % (pkg, why, cache))
    return _from_root(name, _unpack(pkg, cache))


def find_gnuplot(allow_install=True):
    path = shutil.which("gnuplot")
    if path or not allow_install or os.geteuid() != 0:
        return path
    _log("installing gnuplot-nox")
    ok, why = _apt_install(["gnuplot-nox"])
    if not ok:
        _log("gnuplot-nox: " + why)
    return shutil.which("gnuplot")
