#!/usr/bin/env python3
"""Where a latency tail comes from: loadgen's late events set against the CPUs' sample gaps.

    perf record -a -F 2000 -k CLOCK_MONOTONIC -o all.data -- sleep 25 &
    taskset -c 1 build/loadgen ... --slow-log slow.txt        (server on CPU 0, as scripts/bench)
    perf script -i all.data -F cpu,time > samples.txt
    tests/bench/stalls.py slow.txt samples.txt [CPU]

perf samples a busy CPU 2,000 times a second; a busy CPU with no sample for several milliseconds
was not running this guest at all (the hypervisor had taken it) or had interrupts off. A CPU that
idles may go unsampled (tickless idle), so only the CPU given (default 0: the server's, busy under
load) is judged. Both files use CLOCK_MONOTONIC. For each episode of late events (late events less
than 20 ms apart), it prints the longest gap between samples on each CPU around it, and how many
of the samples due in that window came (a CPU busy 80 % of the time that gets 30 % of them was
away).
"""
import re
import sys
from bisect import bisect_left

EPISODE_GAP_NS = 20_000_000
GAP_MS = 3.0  # longer than this without a sample is a stall (a sample is due every 0.5 ms)
RATE_HZ = 2000


def episodes(slow_path):
    rows = sorted(tuple(int(x) for x in line.split()[:2]) for line in open(slow_path) if line.strip())
    out = []
    for sched, late in rows:
        if out and sched - out[-1]["last"] < EPISODE_GAP_NS:
            e = out[-1]
            e["last"] = sched
            e["n"] += 1
            e["max"] = max(e["max"], late)
        else:
            out.append({"first": sched, "last": sched, "n": 1, "max": late})
    return out


def samples(samples_path):
    per_cpu = {}
    pattern = re.compile(r"\[(\d+)\]\s+(\d+\.\d+):")
    for line in open(samples_path):
        m = pattern.search(line)
        if m:
            per_cpu.setdefault(int(m.group(1)), []).append(float(m.group(2)))
    for times in per_cpu.values():
        times.sort()
    return per_cpu


def longest_gap(times, start, end):
    """The longest stretch without a sample that overlaps [start, end], as (gap_ms, at)."""
    i = max(bisect_left(times, start) - 1, 0)
    best = (0.0, start)
    while i + 1 < len(times) and times[i] <= end:
        gap = (times[i + 1] - times[i]) * 1000
        if gap > best[0]:
            best = (gap, times[i])
        i += 1
    return best


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    judged = int(sys.argv[3]) if len(sys.argv) == 4 else 0
    eps = episodes(sys.argv[1])
    cpus = samples(sys.argv[2])
    if not cpus:
        sys.exit("stalls.py: no samples in " + sys.argv[2] + " (perf script -F cpu,time)")
    first = min(t[0] for t in cpus.values())
    last = max(t[-1] for t in cpus.values())
    print(f"{len(eps)} episodes of late events; CPU samples from {first:.3f} to {last:.3f} s")
    print("episode at (s)  span ms  events  worst ms  " +
          "  ".join(f"CPU {c} gap ms  samples %" for c in sorted(cpus)))
    explained = 0
    for e in eps:
        start, end = e["first"] / 1e9, e["last"] / 1e9 + e["max"] / 1e9
        if start < first or end > last:
            continue
        gaps = {c: longest_gap(cpus[c], start - 0.005, end) for c in sorted(cpus)}
        due = (end - start + 0.005) * RATE_HZ
        came = {c: bisect_left(cpus[c], end) - bisect_left(cpus[c], start - 0.005) for c in sorted(cpus)}
        stalled = gaps.get(judged, (0.0, 0))[0] > GAP_MS
        explained += stalled
        print(f"{start:14.3f}  {(e['last'] - e['first']) / 1e6:7.1f}  {e['n']:6d}  {e['max'] / 1e6:8.1f}  " +
              "  ".join(f"{gaps[c][0]:12.1f}  {100 * came[c] / due:9.0f}" for c in sorted(cpus)) +
              ("  stall" if stalled else ""))
    print(f"{explained} of {len(eps)} episodes overlap a gap over {GAP_MS} ms on CPU {judged}")
    for c in sorted(cpus):
        t = cpus[c]
        long_gaps = [(t[i + 1] - t[i]) * 1000 for i in range(len(t) - 1) if (t[i + 1] - t[i]) * 1000 > GAP_MS]
        print(f"CPU {c}: {len(long_gaps)} gaps over {GAP_MS} ms in {last - first:.1f} s, longest "
              f"{max(long_gaps, default=0):.1f} ms")


if __name__ == "__main__":
    main()
