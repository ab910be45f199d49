"""Turns the per-run results of bench/compare into medians, Markdown tables and a chart."""

import math
import os
import statistics
import subprocess

_HERE = os.path.dirname(os.path.abspath(__file__))
MB = 1e6
GB = 1e9


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def latencies_ns(writes, arrivals):
    """Per-line write→arrival latency from two cumulative timelines [(t_ns, count)].

    Line i (1-based) was written at the first write whose count reaches i and arrived at the
    first arrival whose count reaches i. Returns (latencies, lines never seen arriving)."""
    out = []
    j = 0
    prev = 0
    na = len(arrivals)
    for t_w, cum in writes:
        for i in range(prev + 1, cum + 1):
            while j < na and arrivals[j][1] < i:
                j += 1
            if j == na:
                return out, writes[-1][1] - len(out)
            out.append(arrivals[j][0] - t_w)
        prev = cum
    return out, 0


def _fmt(v, digits=1, scale=1.0):
    if v is None:
        return "–"
    v = v / scale
    if digits == 0:
        return "{:,.0f}".format(v)
    return "{:,.{d}f}".format(v, d=digits)


def _med(runs, phase, system, key):
    return median([r.get(phase, {}).get(system, {}).get(key) for r in runs])


def _status(runs, phase, system):
    errs = [r.get(phase, {}).get(system, {}).get("error") for r in runs]
    errs = [e for e in errs if e]
    ok = sum(1 for r in runs if r.get(phase, {}).get(system, {}).get("ok"))
    return ok, errs


def _ratio_median(runs, phase, num_sys, den_sys, key, invert=False):
    vals = []
    for r in runs:
        a = r.get(phase, {}).get(num_sys, {}).get(key)
        b = r.get(phase, {}).get(den_sys, {}).get(key)
        if a and b:
            vals.append(b / a if invert else a / b)
    return median(vals)


def tables(runs, systems, cfg):
    """Markdown for the three phases. `runs` is a list of {phase: {system: metrics}}."""
    out = []
    n = len(runs)
    bb = "blackbox" if "blackbox" in systems else None

    if "drain" in cfg["phases"]:
        out.append("### Backlog drain: %s lines, %.0f MB on disk, median of %d run%s"
                   % ("{:,}".format(cfg["lines"]), cfg["bytes"] / MB, n, "" if n == 1 else "s"))
        out.append("")
        out.append("| system | runs ok | lines/s | MB/s | shipper CPU-s | shipper CPU-s/GB "
                   "| collector CPU-s/GB | shipper peak RSS MB | collector peak RSS MB "
                   "| Blackbox MB/s ÷ this | Blackbox agent CPU/GB ÷ this |")
        out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for s in systems:
            ok, errs = _status(runs, "drain", s)
            m = lambda k: _med(runs, "drain", s, k)
            ratio = ratio_cpu = None
            if bb and s != bb:
                ratio = _ratio_median(runs, "drain", bb, s, "mb_per_s")
                ratio_cpu = _ratio_median(runs, "drain", bb, s, "shipper_cpu_per_gb")
            out.append("| %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                s, ok, n, _fmt(m("lines_per_s"), 0), _fmt(m("mb_per_s"), 1),
                _fmt(m("shipper_cpu_s"), 2), _fmt(m("shipper_cpu_per_gb"), 2),
                _fmt(m("collector_cpu_per_gb"), 2), _fmt(m("shipper_rss"), 1, MB),
                _fmt(m("collector_rss"), 1, MB),
                ("%.2f×" % ratio) if ratio else "–", ("%.2f×" % ratio_cpu) if ratio_cpu else "–"))
        out.append("")

    if "steady" in cfg["phases"]:
        out.append("### Steady state: %s lines/s appended for %d s, median of %d run%s"
                   % ("{:,}".format(cfg["steady_rate"]), cfg["steady_s"], n, "" if n == 1 else "s"))
        out.append("")
        out.append("| system | runs ok | lines delivered | shipper CPU % of one core "
                   "| shipper peak RSS MB | collector CPU % | collector peak RSS MB |")
        out.append("|---|---|--:|--:|--:|--:|--:|")
        for s in systems:
            if s == "cat":
                continue
            ok, errs = _status(runs, "steady", s)
            m = lambda k: _med(runs, "steady", s, k)
            out.append("| %s | %d/%d | %s | %s | %s | %s | %s |" % (
                s, ok, n, _fmt(m("delivered"), 0), _fmt(m("shipper_cpu_pct"), 2),
                _fmt(m("shipper_rss"), 1, MB), _fmt(m("collector_cpu_pct"), 2),
                _fmt(m("collector_rss"), 1, MB)))
        out.append("")

    if "latency" in cfg["phases"]:
        out.append("### Latency: %s lines/s for %d s, median of %d run%s"
                   % ("{:,}".format(cfg["latency_rate"]), cfg["latency_s"], n,
                      "" if n == 1 else "s"))
        out.append("")
        out.append("| system | runs ok | measured from write to | p50 ms | p99 ms | max ms |")
        out.append("|---|---|---|--:|--:|--:|")
        for s in systems:
            if s == "cat":
                continue
            ok, errs = _status(runs, "latency", s)
            m = lambda k: _med(runs, "latency", s, k)
            what = ("durable ack received by the agent (its /metrics polled every 10 ms)"
                    if s == "blackbox" else "arrival at the TCP sink")
            out.append("| %s | %d/%d | %s | %s | %s | %s |" % (
                s, ok, n, what, _fmt(m("p50_ms"), 1), _fmt(m("p99_ms"), 1),
                _fmt(m("max_ms"), 1)))
        out.append("")

    failures = []
    for phase in cfg["phases"]:
        for s in systems:
            for i, r in enumerate(runs):
                res = r.get(phase, {}).get(s, {})
                e = res.get("error")
                if e:
                    failures.append("- run %d, %s, %s: %s%s" % (
                        i + 1, phase, s, e.strip().splitlines()[0][:300],
                        " (logs: `%s`)" % res["logs"] if res.get("logs") else ""))
    if failures:
        out.append("**Failures:**")
        out.append("")
        out.extend(failures)
        out.append("")
    return "\n".join(out)


def chart(runs, systems, out_dir, gnuplot, title):
    """Writes chart.dat, chart.svg and chart.png (throughput and CPU per GB of the drain).
    Returns the chart paths (empty without gnuplot or data)."""
    dat = os.path.join(out_dir, "chart.dat")
    rows = []
    for s in systems:
        mbps = _med(runs, "drain", s, "mb_per_s")
        ship = _med(runs, "drain", s, "shipper_cpu_per_gb")
        coll = _med(runs, "drain", s, "collector_cpu_per_gb") or 0.0
        if mbps is None:
            continue
        rows.append('"%s" %.3f %.3f %.3f' % (s, mbps, ship or 0.0, coll))
    if not rows or not gnuplot:
        return []
    with open(dat, "w") as f:
        f.write("# system  MB/s  shipper_CPU_s_per_GB  collector_CPU_s_per_GB\n")
        f.write("\n".join(rows) + "\n")
    made = []
    for ext in ("svg", "png"):
        path = os.path.join(out_dir, "chart." + ext)
        r = subprocess.run([gnuplot, "-e", "datafile='%s'; outfile='%s'; charttitle='%s'"
                            % (dat, path, title.replace("'", "")),
                            os.path.join(_HERE, "chart.gp")], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("gnuplot failed: " + r.stderr.strip()[-500:])
        made.append(path)
    return made
