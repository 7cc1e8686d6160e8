#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Where the milliseconds of one launch go: swinit-run beside bwrap.

Runs each runtime N times under `perf record` with only scheduler and
syscall tracepoints (no sampling), cuts every run into steps at events both
sides have (the exec of the runtime, the clone or unshare that makes the PID
namespace, the first mount, the exec of the container's first program, the
exit of the namespace's PID 1, the runtime's wait returning, its exit), and
prints the median of each step as a markdown table. Tracepoints slow every
traced syscall a little: the steps add up to more than the untraced launch,
and the table says by how much.

    budget.py N SWINIT_RUN_ARGV_JSON BWRAP_ARGV_JSON   (as root)
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

EVENTS = ["sched:sched_process_exec", "sched:sched_process_fork", "sched:sched_process_exit",
          "syscalls:sys_enter_unshare", "syscalls:sys_enter_mount", "syscalls:sys_exit_wait4"]
CLONE_NEWPID = 0x20000000

LINE = re.compile(r"^\s*(?P<comm>.+?)\s+(?P<pid>\d+)\s+(?P<time>\d+\.\d+):\s+(?P<event>[\w:]+):\s*(?P<rest>.*)$")


def trace(argv, n, wrapper=()):
    """The traced events of n runs of argv, driven one after another by a
    shell (itself started through `wrapper`, a command prefix), as
    (milliseconds, pid, event, fields) tuples."""
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        loop = "for i in $(seq %d); do \"$@\" >/dev/null 2>&1 </dev/null; done" % n
        cmd = list(wrapper) + ["perf", "record", "-q", "-o", data] + sum((["-e", e] for e in EVENTS), []) + \
            ["--", "sh", "-c", loop, "sh"] + argv
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
        out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,time,event,trace"],
                             check=True, capture_output=True, text=True, timeout=600).stdout
    events = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            events.append((float(m["time"]) * 1000, int(m["pid"]), m["event"], m["rest"]))
    return events


def field(rest, name):
    m = re.search(r"\b%s[=:]\s*(\S+)" % name, rest)
    return m and m.group(1)


def runs(events, runtime):
    """Splits the trace at each exec of the runtime binary; yields one dict of marks per run."""
    current = None
    for time, pid, event, rest in events:
        if event == "sched:sched_process_exec" and os.path.basename(field(rest, "filename") or "") == runtime \
                and current is None:
            current = {"host": pid, "start": time, "family": {pid}, "pid1": None}
            continue
        if current is None or pid not in current["family"]:
            continue
        marks = current
        if event == "sched:sched_process_fork":
            child = int(field(rest, "child_pid"))
            marks["family"].add(child)
            if pid == marks["host"] and "fork" not in marks:
                marks["fork"] = time
                marks["pid1"] = child
        elif event == "syscalls:sys_enter_unshare":
            flags = int(field(rest, "unshare_flags"), 16)
            if flags & CLONE_NEWPID and pid == marks["host"]:
                marks.setdefault("pidns", time)
        elif event == "syscalls:sys_enter_mount":
            marks.setdefault("mount", time)
        elif event == "sched:sched_process_exec" and pid != marks["host"] \
                and os.path.basename(field(rest, "filename") or "") not in (runtime, "exe"):
            # The container's first program; a stage 2 that re-executes the
            # runtime (/proc/self/exe) is still setting up.
            marks.setdefault("exec", time)
        elif event == "sched:sched_process_exit":
            if pid == marks["pid1"]:
                marks["pid1-exit"] = time
            if pid == marks["host"]:
                marks["end"] = time
                yield marks
                current = None
        elif event == "syscalls:sys_exit_wait4" and pid == marks["host"]:
            returned = rest.strip().split()[-1]
            if marks["pid1"] is not None and int(returned, 16) == marks["pid1"]:
                marks.setdefault("waited", time)


# The steps: (label, swinit-run's marks, bwrap's marks or None when bwrap has
# no such step). bwrap makes its namespaces in the clone of its PID 1 and
# learns the status from it over a pipe before the namespace is torn down.
STEPS = [
    ("start, parse, state directory, cgroup, seccomp cache", ("start", "pidns"), ("start", "fork")),
    ("PID namespace, fork of stage 2", ("pidns", "fork"), None),
    ("stage 2: namespaces, up to the first mount", ("fork", "mount"), ("fork", "mount")),
    ("mounts, pivot_root, session, caps, seccomp, exec of PID 1", ("mount", "exec"), ("mount", "exec")),
    ("PID 1 (swinit; bwrap's own) runs /bin/true and exits", ("exec", "pid1-exit"), ("exec", "pid1-exit")),
    ("PID 1 exit → wait returns (namespace teardown)", ("pid1-exit", "waited"), None),
    ("after the wait: cleanup, exit", ("waited", "end"), ("pid1-exit", "end")),
]
NEEDED = {"swinit-run": ("pidns", "fork", "mount", "exec", "pid1-exit", "waited", "end"),
          "bwrap": ("fork", "mount", "exec", "pid1-exit", "end")}


def budget(n, argvs, wrapper=()):
    """{runtime: {step label: median ms, "traced total": ms, "runs": count}}
    for the two runtimes of `argvs` ({"swinit-run": argv, "bwrap": argv})."""
    result = {}
    for index, (runtime, argv) in enumerate(argvs.items()):
        name = os.path.basename(argv[0])
        marks = [m for m in runs(trace(argv, n, wrapper), name) if all(k in m for k in NEEDED[runtime])]
        steps = {}
        for label, *spans in STEPS:
            span = spans[index]
            if span and marks:
                steps[label] = statistics.median(m[span[1]] - m[span[0]] for m in marks)
        steps["traced total"] = statistics.median(m["end"] - m["start"] for m in marks) if marks else None
        steps["runs"] = len(marks)
        result[runtime] = steps
    return result


def table(result):
    rows = ["| step | swinit-run (ms) | bwrap (ms) |", "|---|---|---|"]
    for label in [label for label, _, _ in STEPS] + ["traced total"]:
        cells = ["–" if result[r].get(label) is None else "%.2f" % result[r][label] for r in ("swinit-run", "bwrap")]
        rows.append("| %s | %s |" % (label, " | ".join(cells)))
    rows.append("| traced runs | %d | %d |" % (result["swinit-run"]["runs"], result["bwrap"]["runs"]))
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    n = int(sys.argv[1])
    print(table(budget(n, {"swinit-run": json.loads(sys.argv[2]), "bwrap": json.loads(sys.argv[3])})))
