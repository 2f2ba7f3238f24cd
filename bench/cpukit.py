"""CPU accounting of the processes a bench starts (``bench/bench_scale.py``): PostgreSQL's,
the machine's busy cores, the time threads waited for a CPU."""

from __future__ import annotations

import os
from pathlib import Path

from bench.bench_serve import proc_cpu
from tests.pgcluster import Cluster


def cluster_cpu(cluster: Cluster) -> float:
    """CPU seconds used so far by the cluster's postmaster and its live children."""
    pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # children that exited (closed connections) are in the postmaster's cutime and cstime
    total = proc_cpu(pid) + (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            try:
                total += proc_cpu(int(d.name))
            except OSError:  # the connection closed meanwhile
                continue
    return total


def sys_cpu(pid: int) -> float:
    """System (kernel) CPU seconds used so far by ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs so far (/proc/stat; idle and iowait not busy)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(f) - f[3] - f[4], sum(f)


def run_delays(pids: list[int]) -> dict[int, float]:
    """Seconds each process's threads have waited on a run queue so far (schedstat): the
    time they were ready to run and got no CPU."""
    out: dict[int, float] = {}
    for pid in pids:
        total = 0
        for t in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                total += int(t.read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
        out[pid] = total / 1e9
    return out


def cluster_pids(cluster: Cluster) -> list[int]:
    """The postmaster and its live children."""
    pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
    out = [pid]
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except OSError:
                continue
    return out


def waited(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())
