#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs swinit's benchmarks side by side with its peers and writes the report.

Called by scripts/bench.sh once everything is installed and built; standard
library only. The timing loops themselves run in the static C helper
`benchkit` (scripts/bench/benchkit.c): this script chooses the candidates,
starts the helper, reads /proc, computes medians and spreads, and writes
docs/BENCHMARKS.md plus the raw data under the results directory.

Every measurement interleaves its candidates in a new random order per round,
is bounded in time (a stuck candidate is SIGKILLed) and removes what it made.
"""
import argparse
import datetime
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time

P = argparse.ArgumentParser()
P.add_argument("--quick", action="store_true")
P.add_argument("--swinit", required=True)
P.add_argument("--swinit-run", required=True)
P.add_argument("--benchkit", required=True)
P.add_argument("--rootfs", required=True, help="busybox layer dir (read-only lower layer)")
P.add_argument("--work", required=True, help="scratch directory (removed by bench.sh)")
P.add_argument("--results", required=True, help="where raw data goes")
P.add_argument("--report", required=True)
P.add_argument("--chart", required=True)
P.add_argument("--seed", type=int, default=int(time.time()))
P.add_argument("--only", default="", help="comma-separated measurement numbers (development)")
A = P.parse_args()
QUICK = A.quick
BK = A.benchkit
ONLY = set(A.only.split(",")) if A.only else None
rand = random.Random(A.seed)
os.makedirs(A.results, exist_ok=True)


def log(*words):
    print("[bench]", *words, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def save(name, text):
    with open(os.path.join(A.results, name), "w") as f:
        f.write(text)


def spec_file(name, candidates):
    """candidates: list of (name, argv). Writes the helper's tab-separated SPEC."""
    path = os.path.join(A.work, name + ".spec")
    with open(path, "w") as f:
        for cname, argv in candidates:
            assert all("\t" not in a for a in argv)
            f.write("\t".join([cname] + list(argv)) + "\n")
    return path


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summary(values):
    return dict(n=len(values), median=pct(values, 0.5), p25=pct(values, 0.25), p75=pct(values, 0.75),
                p99=pct(values, 0.99), min=min(values) if values else float("nan"),
                max=max(values) if values else float("nan"))


def fmt(x, digits=2):
    if x != x:
        return "–"
    return f"{x:.{digits}f}"


def shell_words(argv):
    import shlex
    return " ".join(shlex.quote(a) for a in argv)


# ---------------------------------------------------------------- candidates
SW, SWR = A.swinit, A.swinit_run
TRUE = "/bin/true"
INITS = [  # name, argv before the program, binary
    ("swinit", [SW, "--"], SW),
    ("tini", ["/usr/bin/tini", "-s", "--"], "/usr/bin/tini"),
    ("tini-static", ["/usr/bin/tini-static", "-s", "--"], "/usr/bin/tini-static"),
    ("dumb-init", ["/usr/bin/dumb-init"], "/usr/bin/dumb-init"),
    ("catatonit", ["/usr/bin/catatonit", "--"], "/usr/bin/catatonit"),
]
PEERS = [n for n, _, _ in INITS if n != "swinit"]
REPORT = []        # markdown sections
TARGETS = []       # (target, figure, verdict, note)
HEADLINE = {}      # figures for the chart


def section(title, text):
    REPORT.append(f"## {title}\n\n{text.strip()}\n")


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def target(name, figure, met, note=""):
    TARGETS.append((name, figure, "**met**" if met else "**not met**", note))


def wanted(number):
    return ONLY is None or str(number) in ONLY


# ---------------------------------------------------------------- 9 budget
def m9_budget():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import budget
    n = 20 if QUICK else 100
    cands = dict(runtime_candidates([TRUE])[:2])
    log(f"9: launch budget under perf tracepoints, {n} runs each")
    # The same cgroup2 view as section 7: perf runs inside the wrapper.
    result = budget.budget(n, cands, wrapper=CGROUP_WRAP)
    save("9-budget.md", budget.table(result))
    section("9. Where a launch's milliseconds go", (
        f"Section 7's swinit-run and bwrap commands, {n} runs each under `perf record` with scheduler and syscall "
        "tracepoints only (`scripts/bench/budget.py`): every run is cut at events both runtimes have — the "
        "runtime's exec, the unshare of the PID namespace (swinit-run) or the clone of bwrap's PID 1, the first "
        "mount, the exec of the container's first program, the exit of the namespace's PID 1, the runtime's wait "
        "returning, its exit — and each step's median is shown. Tracing makes every traced syscall a little "
        "slower, so the steps add up to more than section 7's untraced medians. bwrap creates its namespaces in "
        "the clone of its PID 1 (no separate step), runs no seccomp filter and learns its command's status over a "
        "pipe before the namespace is torn down, so it has no teardown step on its critical path. swinit-run's "
        "PID 1 is swinit under Docker's default seccomp profile (every syscall of swinit and of the command "
        "passes the filter).\n\n" + budget.table(result)))


# ---------------------------------------------------------------- 1 size
def m1_size():
    rows = []
    bins = [("swinit (static)", SW)] + [(n, b) for n, _, b in INITS if n != "swinit"] + [
        ("swinit-run", SWR), ("bwrap", shutil.which("bwrap")), ("crun", shutil.which("crun"))]
    sizes = {}
    for name, path in bins:
        real = os.path.realpath(path)
        size = os.path.getsize(real)
        sizes[name] = size
        kind = run(["file", "-b", real]).split(",")
        linkage = "static" if any("statically linked" in k or "static-pie" in k for k in kind) else "dynamic"
        libs = ""
        if linkage == "dynamic":
            out = subprocess.run(["ldd", real], capture_output=True, text=True).stdout
            libs = ", ".join(l.split()[0] for l in out.splitlines() if "=>" in l)
        rows.append((name, f"`{path}`", f"{size:,}", f"{size / 1024:.0f} KiB", linkage, libs or "–"))
    section("1. Binary size and linkage", "Bytes on disk, as installed or built (stripped).\n\n" +
            table(["binary", "path", "bytes", "KiB", "linkage", "shared libraries"], rows))
    HEADLINE["size"] = {k: v for k, v in sizes.items() if k in ("swinit (static)", "tini-static", "catatonit", "tini", "dumb-init")}
    target("static swinit ≤ 100 KB", f"{sizes['swinit (static)']:,} bytes", sizes["swinit (static)"] <= 100_000)


# ---------------------------------------------------------------- 2 overhead
def rounds(spec, n, pidns=False):
    cmd = [BK, "rounds"] + (["--pidns"] if pidns else []) + [str(n), str(rand.randrange(1 << 30)), spec]
    out = run(cmd, timeout=3600)
    rows = [l.split("\t") for l in out.splitlines()]
    return out, rows


def m2_overhead():
    n = 50 if QUICK else 500
    cands = [("true", [TRUE])] + [(name, pre + [TRUE]) for name, pre, _ in INITS]
    spec = spec_file("overhead", cands)
    text = ("Wall time of `INIT -- /bin/true` minus the wall time of `/bin/true` in the same round "
            f"(paired), {n} rounds, candidates in a new random order each round; timed by `benchkit rounds` "
            "(clone → execvp → waitpid, CLOCK_MONOTONIC). Host: started by a normal process (inits that "
            "can become subreapers do; tini is given `-s` so it does too). Fresh pid namespace: each run "
            "is cloned with CLONE_NEWPID, so the init is PID 1 (and `true` alone is PID 1 for the floor).\n\n"
            "Commands:\n\n" + "\n".join(f"- {c}: `{shell_words(a)}`" for c, a in cands) + "\n\n")
    result = {}
    for mode, pidns in (("host", False), ("pid namespace", True)):
        log(f"2: start-exit overhead ({mode}), {n} rounds")
        raw, rows = rounds(spec, n, pidns)
        save(f"2-overhead-{'pidns' if pidns else 'host'}.tsv", raw)
        by_round = {}
        bad = {}
        for name, rnd, ns, code in rows:
            by_round.setdefault(int(rnd), {})[name] = int(ns) / 1e6
            if code != "0":
                bad[name] = bad.get(name, 0) + 1
        trs = [r["true"] for r in by_round.values()]
        lines = []
        for name, _, _ in INITS:
            diffs = [r[name] - r["true"] for r in by_round.values()]
            totals = [r[name] for r in by_round.values()]
            s, t = summary(diffs), summary(totals)
            result[(mode, name)] = s
            lines.append((name, fmt(t["median"], 3), fmt(s["median"], 3), f"{fmt(s['p25'], 3)} – {fmt(s['p75'], 3)}",
                          f"{fmt(s['min'], 3)} – {fmt(s['max'], 3)}", bad.get(name, 0)))
        st = summary(trs)
        lines.insert(0, ("true (floor)", fmt(st["median"], 3), "0", "–", "–", bad.get("true", 0)))
        text += f"### {mode}\n\n" + table(["candidate", "median run (ms)", "median overhead (ms)", "overhead p25 – p75",
                                          "overhead min – max", "non-zero exits"], lines) + "\n\n"
    section("2. Start-and-exit overhead", text)
    for mode in ("host", "pid namespace"):
        sw, ts = result[(mode, "swinit")]["median"], result[(mode, "tini-static")]["median"]
        ratio = sw / ts if ts > 0 else float("inf")
        target(f"overhead ≤ 0.6 × tini-static's ({mode})", f"{fmt(sw, 3)} ms vs {fmt(ts, 3)} ms = {fmt(ratio)}×",
               sw <= 0.6 * ts)
    HEADLINE["overhead"] = {name: result[("pid namespace", name)]["median"] for name, _, _ in INITS}


# ---------------------------------------------------------------- 3 idle
def proc_figures(pid):
    f = {}
    with open(f"/proc/{pid}/status") as s:
        for line in s:
            k, _, v = line.partition(":")
            if k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                f[k] = int(v)
            if k in ("RssAnon", "RssFile", "VmRSS"):
                f[k] = int(v.split()[0])
    with open(f"/proc/{pid}/schedstat") as s:
        cpu, _, slices = s.read().split()
        f["cpu_ns"], f["slices"] = int(cpu), int(slices)
    with open(f"/proc/{pid}/smaps_rollup") as s:
        for line in s:
            if line.startswith("Pss:"):
                f["Pss"] = int(line.split()[1])
    return f


def start_spawn(argv, pidns=True, subreaper=False):
    cmd = [BK, "spawn"] + (["--pidns"] if pidns else []) + (["--subreaper"] if subreaper else []) + argv
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    first = p.stdout.readline().split()
    assert first[0] == "pid", first
    return p, int(first[1])


def stop(p, pid, grace=3.0):
    """SIGTERM the init, then SIGKILL (which ends its whole pid namespace)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    return p.returncode


def m3_idle():
    window = 3 if QUICK else 10
    nrounds = 1 if QUICK else 3
    cands = [("sleep (floor)", [])] + [(n, pre) for n, pre, _ in INITS]
    child = ["/bin/sleep", "1000"]
    data = {c: [] for c, _ in cands}
    raw = []
    for r in range(nrounds):
        log(f"3: idle as PID 1, round {r + 1}/{nrounds}, {window} s")
        order = cands[:]
        rand.shuffle(order)
        procs = {}
        try:
            for name, pre in order:
                procs[name] = start_spawn(pre + child)
            time.sleep(1.0)  # settle: the child has been spawned, start-up is over
            before = {n: proc_figures(pid) for n, (p, pid) in procs.items()}
            time.sleep(window)
            after = {n: proc_figures(pid) for n, (p, pid) in procs.items()}
        finally:
            for name, (p, pid) in procs.items():
                stop(p, pid, 0.2 if name == "sleep (floor)" else 3.0)
        for n in before:
            b, a = before[n], after[n]
            d = dict(ctxt=(a["voluntary_ctxt_switches"] + a["nonvoluntary_ctxt_switches"]) -
                     (b["voluntary_ctxt_switches"] + b["nonvoluntary_ctxt_switches"]),
                     slices=a["slices"] - b["slices"], cpu_us=(a["cpu_ns"] - b["cpu_ns"]) / 1000,
                     RssAnon=a["RssAnon"], RssFile=a["RssFile"], Pss=a["Pss"])
            data[n].append(d)
            raw.append("\t".join([n, str(r)] + [f"{k}={v}" for k, v in d.items()]))
    save("3-idle.tsv", "\n".join(raw) + "\n")
    rows = []
    med = {}
    for n, _ in cands:
        m = {k: statistics.median(d[k] for d in data[n]) for k in data[n][0]}
        mx = {k: max(d[k] for d in data[n]) for k in data[n][0]}
        med[n] = m
        rows.append((n, f"{m['ctxt']:g} (max {mx['ctxt']:g})", f"{m['slices']:g}", fmt(m["cpu_us"], 1),
                     f"{m['RssAnon']:g}", f"{m['RssFile']:g}", f"{m['Pss']:g}"))
    section("3. Idle cost as PID 1", (
        f"Each init runs as PID 1 of its own pid namespace with `/bin/sleep 1000` as its child, all candidates at "
        f"once (started in random order), {nrounds} round(s). After 1 s to settle, the init's own counters are "
        f"read from `/proc/PID/status`, `/proc/PID/schedstat` and `/proc/PID/smaps_rollup`, then again {window} s "
        "later. Context switches = voluntary + involuntary over the window; run slices = times it was put on a "
        "CPU; memory in KiB at the end of the window. Medians over the rounds.\n\n" +
        table(["init", f"context switches in {window} s", "run slices", "CPU time (µs)", "RssAnon (KiB)",
               "RssFile (KiB)", "Pss (KiB)"], rows)))
    target(f"zero idle wake-ups ({window} s)", f"{med['swinit']['ctxt']:g} context switches", med["swinit"]["ctxt"] == 0)
    target("RssAnon ≤ catatonit's", f"{med['swinit']['RssAnon']:g} KiB vs {med['catatonit']['RssAnon']:g} KiB",
           med["swinit"]["RssAnon"] <= med["catatonit"]["RssAnon"])
    HEADLINE["rssanon"] = {n: med[n]["RssAnon"] for n, _, _ in INITS}
    HEADLINE["idle"] = {n: med[n]["ctxt"] for n, _, _ in INITS}


# ---------------------------------------------------------------- 4 latency
def m4_latency():
    n = 200 if QUICK else 1000
    cands = [("bare (floor)", [])] + [(name, pre) for name, pre, _ in INITS]
    spec = spec_file("siglat", cands)
    shm = f"/dev/shm/swinit-bench-{os.getpid()}"
    batches = 2 if QUICK else 5
    cpu = str((os.cpu_count() or 1) - 1)
    out = ""
    for b in range(batches):
        log(f"4: signal latency, batch {b + 1}/{batches}, {n // batches} rounds")
        out += run(["taskset", "-c", cpu, BK, "siglat", str(n // batches), str(rand.randrange(1 << 30)), shm, spec],
                   timeout=600)
    save("4-latency.tsv", out)
    vals, lost, exits = {}, {}, {}
    for line in out.splitlines():
        name, rnd, v = line.split("\t")
        if rnd == "exit":
            exits[name] = v
        elif v == "lost":
            lost[name] = lost.get(name, 0) + 1
        else:
            vals.setdefault(name, []).append(int(v) / 1000)
    rows, med = [], {}
    for c, _ in cands:
        s = summary(vals.get(c, []))
        med[c] = s["median"]
        rows.append((c, s["n"], fmt(s["median"], 1), f"{fmt(s['p25'], 1)} – {fmt(s['p75'], 1)}", fmt(s["p99"], 1),
                     fmt(s["max"], 1), lost.get(c, 0), exits.get(c)))
    section("4. Signal forwarding latency", (
        "Every init runs as PID 1 of its own pid namespace with `benchkit sigrecv` as its child, all at once. "
        f"Each round (after 50 warm-up rounds, {n // batches} rounds per batch, {batches} batches of freshly started "
        "processes) visits the inits in a new random order: the "
        "sender reads CLOCK_MONOTONIC, sends SIGUSR1 to the init's host pid (as `docker kill` does) and sleeps on "
        "a futex until the child's handler has stored its own CLOCK_MONOTONIC reading in shared memory. Latency = "
        "handler time − send time. The floor sends straight to the receiver. At the end each init gets SIGTERM, "
        "which the receiver dies of: the init must exit 143. Everything (sender, inits, receivers) is pinned to "
        f"CPU {cpu} with `taskset`: unpinned, a long-lived process's figure depended mostly on which CPU the "
        "scheduler had put it on (a cross-CPU wake-up costs ~35 µs more on this VM), so one run ranked tini first "
        "and the next ranked it last. Pinned, the figure is the cost of the wake-ups and the forwarding work.\n\n"
        f"Command: `taskset -c {cpu} benchkit siglat {n // batches} SEED SHM SPEC`, {batches} times, with SPEC:\n\n" +
        "\n".join(f"- {c}: `{shell_words(a + ['benchkit', 'sigrecv', 'SHM', 'SLOT'])}`" for c, a in cands) + "\n\n" +
        table(["candidate", "signals", "median (µs)", "p25 – p75", "p99", "max", "lost", "exit status"], rows)))
    best = min(PEERS, key=lambda p: med[p])
    target("latency median ≤ best peer's", f"{fmt(med['swinit'], 1)} µs vs {best} {fmt(med[best], 1)} µs",
           med["swinit"] <= med[best])
    HEADLINE["latency"] = {name: med[name] for name, _, _ in INITS}


# ---------------------------------------------------------------- 5 reaping
def m5_reaping():
    burst = 2000 if QUICK else 10000
    stream = 2000 if QUICK else 20000
    nrounds = 1 if QUICK else 5
    floor = {"pid1": [BK, "reaper"], "subreaper": [BK, "reaper", "--subreaper"]}
    cands = {"pid1": [("waitpid loop (floor)", floor["pid1"])] + [(n, pre) for n, pre, _ in INITS],
             "subreaper": [("waitpid loop (floor)", floor["subreaper"])] +
                          [(n, pre) for n, pre, _ in INITS if n != "dumb-init"]}
    res = {}
    raw = []
    for r in range(nrounds):
        for work, count in (("burst", burst), ("stream", stream)):
            for mode in ("pid1", "subreaper"):
                order = cands[mode][:]
                rand.shuffle(order)
                log(f"5: {work} {count} as {mode}, round {r + 1}/{nrounds}")
                for name, pre in order:
                    p, pid = start_spawn(pre + [BK, work, str(count)], pidns=(mode == "pid1"),
                                         subreaper=(mode == "subreaper"))
                    try:
                        out, err = p.communicate(timeout=60)
                    except subprocess.TimeoutExpired:
                        os.killpg(p.pid, signal.SIGKILL)
                        out, err = p.communicate()
                    words = out.split()
                    figures = dict(zip(words[0::2], words[1::2]))
                    key = "drain_ns" if work == "burst" else "stream_ns"
                    ms = int(figures[key]) / 1e6 if key in figures else float("nan")
                    left = int(figures.get("left", -1))
                    cpu = int(figures.get("init_cpu_ns", 0)) / 1e6
                    res.setdefault((work, mode, name), []).append((ms, left, p.returncode, cpu))
                    raw.append(f"{work}\t{mode}\t{name}\t{r}\t{ms}\t{left}\t{p.returncode}\t{cpu}")
    save("5-reaping.tsv", "\n".join(raw) + "\n")
    text = (f"`benchkit burst {burst}`: a child of the init forks {burst:,} processes that block on one pipe, "
            "lets their parent exit so the init adopts them, waits 0.2 s, closes the pipe (all exit at once) and "
            "times until every one of them is gone (reaped), polling with `kill(pid, 0)` (checked against "
            f"`/proc/PID/stat` outside a pid namespace). `benchkit stream {stream}`: {stream:,} orphans made one "
            "after another (fork, the middle process forks the orphan and exits), timed from the first fork "
            "until the last orphan is reaped. Zombies left = orphans still there 10 s after the end (must be 0). "
            "PID 1: the init is PID 1 of a fresh pid namespace. Subreaper: the init runs in the host namespace "
            "and becomes a child subreaper (swinit and catatonit do this by themselves, tini with `-s`; "
            "dumb-init has no subreaper mode and is left out). The floor is `benchkit reaper`: fork/exec the "
            f"program, then a bare blocking `waitpid(-1)` loop. {nrounds} round(s), candidates in random order; "
            "medians. The init's CPU time is read from `/proc/INIT/schedstat` by the orphan maker just before the "
            "release and after the last orphan is gone: the work the init itself did, which the machine's noise "
            "disturbs far less than the wall-clock drain time (dominated by the 10,000 exits themselves).\n\n")
    verdict = {}
    for work in ("burst", "stream"):
        for mode in ("pid1", "subreaper"):
            rows = []
            fl = statistics.median(v[0] for v in res[(work, mode, "waitpid loop (floor)")])
            flcpu = statistics.median(v[3] for v in res[(work, mode, "waitpid loop (floor)")])
            for name, _ in cands[mode]:
                vs = res[(work, mode, name)]
                ms = [v[0] for v in vs]
                m = statistics.median(ms)
                zombies = max(v[1] for v in vs)
                cpu = statistics.median(v[3] for v in vs)
                rows.append((name, fmt(m, 1), f"{fmt(min(ms), 1)} – {fmt(max(ms), 1)}", fmt(m / fl), fmt(cpu, 1),
                             fmt(cpu / flcpu) if flcpu else "–", zombies, ", ".join(sorted({str(v[2]) for v in vs}))))
                verdict[(work, mode, name)] = (m, fl, zombies, cpu, flcpu)
            label = {"burst": f"{burst:,} orphans at once (drain time)", "stream": f"{stream:,}-orphan stream"}[work]
            text += f"### {label}, {'as PID 1' if mode == 'pid1' else 'as subreaper'}\n\n" + table(
                ["init", "median (ms)", "min – max", "× floor", "init's CPU time (ms, median)", "CPU × floor",
                 "zombies left (max)", "exit status"], rows) + "\n\n"
    section("5. Reaping", text)
    for mode in ("pid1", "subreaper"):
        m, fl, z, cpu, flcpu = verdict[("burst", mode, "swinit")]
        target(f"burst drain ≤ 1.1 × floor, 0 zombies ({'PID 1' if mode == 'pid1' else 'subreaper'})",
               f"{fmt(m, 1)} ms vs {fmt(fl, 1)} ms = {fmt(m / fl)}×, {z} zombies", m <= 1.1 * fl and z == 0,
               f"init's CPU time {fmt(cpu, 1)} ms vs the floor's {fmt(flcpu, 1)} ms = {fmt(cpu / flcpu) if flcpu else '–'}×")
    HEADLINE["drain"] = {n: verdict[("burst", "pid1", n)][0] for n, _, _ in INITS}
    HEADLINE["drain"]["floor"] = verdict[("burst", "pid1", "swinit")][1]


# ---------------------------------------------------------------- 6 storm
def m6_storm():
    count = 2000 if QUICK else 10000
    nrounds = 1 if QUICK else 3
    cands = [("bare (floor)", [])] + [(name, pre) for name, pre, _ in INITS]
    spec = spec_file("storm", cands)
    shm = f"/dev/shm/swinit-bench-{os.getpid()}"
    log(f"6: signal storm, {count} signals, {nrounds} rounds")
    out = run([BK, "storm", str(count), str(nrounds), str(rand.randrange(1 << 30)), shm, spec], timeout=900)
    save("6-storm.tsv", out)
    res = {}
    for line in out.splitlines():
        name, rnd, code, handled, send_ns, exit_ns, failed = line.split("\t")
        res.setdefault(name, []).append((int(code), int(handled), int(send_ns) / 1e6, int(exit_ns) / 1e6, int(failed)))
    rows = []
    for c, _ in cands:
        vs = res[c]
        ok = all(v[0] == 143 for v in vs)
        rows.append((c, ", ".join(sorted({str(v[0]) for v in vs})), "yes" if ok else "**no**",
                     f"{statistics.median(v[1] for v in vs):g}", fmt(statistics.median(v[2] for v in vs), 1),
                     fmt(statistics.median(v[3] for v in vs), 1), fmt(max(v[3] for v in vs), 1)))
    section("6. Signal storm", (
        f"Each init, PID 1 of its own pid namespace with `benchkit sigrecv` as its child, is sent {count:,} signals "
        "as fast as `kill(2)` goes, cycling through SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, "
        "SIGCONT, SIGURG and the real-time signals 37, 38 and 64 (the child handles them all), then SIGTERM, which "
        "the child dies of. Right outcome: the init exits 143 (128 + SIGTERM) within 10 s; exit -1 would mean it "
        "hung and was killed. Standard signals coalesce while pending, so fewer arrive than were sent. "
        f"{nrounds} round(s), random order.\n\n"
        f"Command: `benchkit storm {count} {nrounds} SEED SHM SPEC` (SPEC as in 4).\n\n" +
        table(["candidate", "exit status", "right status, no hang", "signals the child handled (median)",
               "sending took (ms)", "SIGTERM → exit (ms, median)", "SIGTERM → exit (max)"], rows)))
    sw_ok = all(v[0] == 143 for v in res["swinit"])
    target(f"signal storm: no crash, no hang, exit 143", ", ".join(sorted({str(v[0]) for v in res["swinit"]})), sw_ok)


# ---------------------------------------------------------------- 7 launch
def crun_bundle(path, rootfs, args):
    os.makedirs(path, exist_ok=True)
    if os.path.exists(os.path.join(path, "config.json")):
        os.unlink(os.path.join(path, "config.json"))
    subprocess.run(["crun", "spec"], cwd=path, check=True, capture_output=True)
    import json
    with open(os.path.join(path, "config.json")) as f:
        c = json.load(f)
    c["root"] = {"path": rootfs, "readonly": True}
    c["process"]["terminal"] = False
    c["process"]["args"] = args
    c["linux"]["namespaces"] = [{"type": t} for t in ("pid", "mount", "uts", "ipc", "network")]
    c["linux"].pop("resources", None)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(c, f, indent=1)


# crun refuses this host's hybrid cgroup layout (cgroup v1 controllers plus a
# v2 hierarchy that holds hugetlb). The runtime measurements therefore run in a
# private mount namespace with cgroup2 mounted on /sys/fs/cgroup, and crun with
# --cgroup-manager=disabled (no cgroup work, like swinit-run and bwrap).
CRUN = ["crun", "--cgroup-manager=disabled"]
CGROUP_WRAP = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"', "sh"]


def runtime_candidates(args, index="", thin=True):
    root = A.rootfs
    bundle = os.path.join(A.work, "bundle" + (index and "-%d"))
    cands = [
        ("swinit-run", [SWR, "--init", SW, "--layer", root, "--"] + args),
        ("bwrap", ["bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--ro-bind", root, "/",
                   "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"] + args),
        ("crun", CRUN + ["run", "--bundle", bundle, "bench" + (index and "-%d")]),
        ("unshare+chroot (floor)", ["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "chroot", root] + args),
    ]
    if thin:
        cands.append(("overlay floor", [BK, "thin", root, os.path.join(A.work, "thin", "%d" if index else "0")] + args))
    return cands


def m7_launch():
    n = 30 if QUICK else 300
    crun_bundle(os.path.join(A.work, "bundle"), A.rootfs, [TRUE])
    os.makedirs(os.path.join(A.work, "thin", "0"), exist_ok=True)
    cands = runtime_candidates([TRUE])
    spec = spec_file("launch", cands)
    log(f"7: launch-to-exit, {n} rounds")
    raw, rows = rounds_wrapped(spec, n)
    save("7-launch.tsv", raw)
    by = {}
    bad = {}
    for name, rnd, ns, code in rows:
        by.setdefault(name, []).append(int(ns) / 1e6)
        if code != "0":
            bad[name] = bad.get(name, 0) + 1
    out, med = [], {}
    fl = statistics.median(by["unshare+chroot (floor)"])
    for c, _ in cands:
        s = summary(by[c])
        med[c] = s["median"]
        out.append((c, fmt(s["median"], 2), f"{fmt(s['p25'], 2)} – {fmt(s['p75'], 2)}", f"{fmt(s['min'], 2)} – {fmt(s['max'], 2)}",
                    fmt(s["median"] / fl), bad.get(c, 0)))
    section("7. Launch-to-exit of /bin/true on a busybox root", (
        f"Wall time from clone to reaping the runtime, {n} rounds, random order per round (`benchkit rounds`). The "
        "root is the busybox layer from `scripts/make-rootfs.sh`. swinit-run mounts it as the lower layer of an "
        "overlay with a thrown-away tmpfs upper layer and runs swinit as PID 1 (its full default set-up: masked "
        "/proc, /dev with nodes, read-only /sys, capabilities, no_new_privs). bwrap 0.8 has no overlay support, so "
        "it gets the layer read-only bind-mounted as / plus a tmpfs /tmp, /proc and /dev. crun runs an OCI bundle "
        "whose root is the same directory (read-only; crun does not make overlays). All get new pid, mount, uts, "
        "ipc and network namespaces. The floors: util-linux `unshare … chroot`, and `benchkit thin` (one small C "
        "process: the same namespaces, an overlay with a tmpfs upper layer, chroot, exec).\n\n"
        "**crun and cgroups:** this host has a hybrid cgroup layout (v1 controllers plus a v2 hierarchy holding "
        "hugetlb), which crun 1.8 refuses (`cgroups in hybrid mode not supported`). The whole runtime measurement "
        "(every candidate alike) therefore runs inside `unshare --mount --propagation private` with cgroup2 mounted "
        "on /sys/fs/cgroup, and crun runs with `--cgroup-manager=disabled`, so it does no cgroup work — neither do "
        "swinit-run and bwrap.\n\nCommands:\n\n" +
        "\n".join(f"- {c}: `{shell_words(a)}`" for c, a in cands) + "\n\n" +
        table(["runtime", "median (ms)", "p25 – p75", "min – max", "× unshare+chroot", "non-zero exits"], out)))
    target("swinit-run launch ≤ bwrap's", f"{fmt(med['swinit-run'])} ms vs {fmt(med['bwrap'])} ms",
           med["swinit-run"] <= med["bwrap"])
    HEADLINE["launch"] = med


def rounds_wrapped(spec, n):
    out = run(CGROUP_WRAP + [BK, "rounds", str(n), str(rand.randrange(1 << 30)), spec], timeout=3600)
    return out, [l.split("\t") for l in out.splitlines()]


# ---------------------------------------------------------------- 8 concurrent
def memory_cgroup():
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrl, path = line.strip().split(":", 2)
            if "memory" in ctrl.split(","):
                base = "/sys/fs/cgroup/memory" + path
                if os.path.isdir(base):
                    return base
    return None


def m8_concurrent():
    k = 20 if QUICK else 100
    nrounds = 1 if QUICK else 5
    mrounds = 1 if QUICK else 3
    for i in range(k):
        crun_bundle(os.path.join(A.work, f"bundle-{i}"), A.rootfs, [TRUE])
        os.makedirs(os.path.join(A.work, "thin", str(i)), exist_ok=True)
    cands = runtime_candidates([TRUE], index="%d")
    spec = spec_file("concurrent", cands)
    log(f"8: {k} containers at once, {nrounds} rounds")
    out = run(CGROUP_WRAP + [BK, "parallel", str(nrounds), str(k), str(rand.randrange(1 << 30)), spec], timeout=3600)
    save("8-concurrent.tsv", out)
    times, failed = {}, {}
    for line in out.splitlines():
        name, rnd, ns, f = line.split("\t")
        times.setdefault(name, []).append(int(ns) / 1e6)
        failed[name] = failed.get(name, 0) + int(f)

    # Memory: the same, with `sleep 3` so all K are alive at once, each
    # candidate in a fresh memory cgroup (v1) whose peak usage we read.
    mem = {}
    base = memory_cgroup()
    if base:
        for i in range(k):
            crun_bundle(os.path.join(A.work, f"bundle-{i}"), A.rootfs, ["/bin/sleep", "3"])
        mcands = runtime_candidates(["/bin/sleep", "3"], index="%d")
        for r in range(mrounds):
            order = mcands[:]
            rand.shuffle(order)
            for name, argv in order:
                log(f"8: memory of {k} × {name}, round {r + 1}/{mrounds}")
                one = spec_file("memory-one", [(name, argv)])
                cg = os.path.join(base, f"swinit-bench-{os.getpid()}")
                os.mkdir(cg)
                try:
                    run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                         'echo $$ > "$1"/cgroup.procs && mount -t cgroup2 none /sys/fs/cgroup && shift && exec "$@"',
                         "sh", cg, BK, "parallel", "1", str(k), str(rand.randrange(1 << 30)), one], timeout=600)
                    with open(os.path.join(cg, "memory.max_usage_in_bytes")) as f:
                        peak = int(f.read())
                    mem.setdefault(name, []).append(peak / k / 1024)
                finally:
                    for _ in range(50):
                        try:
                            os.rmdir(cg)
                            break
                        except OSError:
                            time.sleep(0.1)
        save("8-memory.tsv", "".join(f"{n}\t{v}\n" for n, vs in mem.items() for v in vs))
    rows, med = [], {}
    fl = statistics.median(times["overlay floor"])
    fl2 = statistics.median(times["unshare+chroot (floor)"])
    for c, _ in cands:
        m = statistics.median(times[c])
        med[c] = m
        mm = statistics.median(mem[c]) if c in mem else float("nan")
        rows.append((c, fmt(m, 0), f"{fmt(min(times[c]), 0)} – {fmt(max(times[c]), 0)}", fmt(m / fl), fmt(m / fl2),
                     failed[c], fmt(mm, 0)))
    section(f"8. {k} containers at once", (
        f"`benchkit parallel`: fork {k} copies of the runtime command at once and time until all have exited "
        f"(`/bin/true` in each), {nrounds} round(s), candidates in random order. Each container has its own thin "
        "writable layer where the runtime makes one: swinit-run an overlay with a private tmpfs upper layer "
        "(its default), the overlay floor the same (`benchkit thin`, own directory per copy); bwrap 0.8 (no overlay "
        "support) a read-only bind of the shared layer plus a private tmpfs /tmp; crun a read-only root (one bundle "
        "per container) and no writable layer; util-linux unshare+chroot the read-only layer. Same cgroup "
        "arrangement as in 7.\n\n"
        f"Memory per container: the same start with `/bin/sleep 3` as the command so all {k} are alive together, "
        "each candidate run inside a fresh cgroup-v1 memory cgroup; figure = the cgroup's peak "
        "`memory.max_usage_in_bytes` / {k} (user memory of every process of the container and its runtime, "
        f"plus kernel memory charged to the cgroup and the tmpfs pages), median of {mrounds} round(s).\n\n" +
        table(["runtime", f"all {k} done (ms, median)", "min – max", "× overlay floor", "× unshare+chroot",
               "failed containers", "memory per container (KiB)"], rows)))
    sw = med["swinit-run"]
    target(f"{k} concurrent containers ≤ 1.5 × floor (overlay floor, same work)", f"{fmt(sw, 0)} ms vs {fmt(fl, 0)} ms = {fmt(sw / fl)}×",
           sw <= 1.5 * fl, f"against util-linux unshare+chroot on the read-only layer: {fmt(sw / fl2)}×")
    HEADLINE["concurrent"] = med


# ---------------------------------------------------------------- chart
def chart():
    panels = [("overhead", "start-exit overhead as PID 1 (ms, median)"),
              ("latency", "signal latency (µs, median)"),
              ("rssanon", "RssAnon as PID 1 (KiB)"),
              ("launch", "launch-to-exit of /bin/true (ms, median)")]
    panels = [p for p in panels if p[0] in HEADLINE]
    if not panels or not shutil.which("gnuplot"):
        return False
    script = ["set terminal pngcairo size 1400,%d font 'DejaVu Sans,11'" % (380 * ((len(panels) + 1) // 2)),
              f"set output '{A.chart}'", f"set multiplot layout {(len(panels) + 1) // 2},2 title "
              f"'swinit benchmarks — {datetime.date.today()} — lower is better'",
              "set style fill solid 0.8", "set boxwidth 0.6", "unset key", "set yrange [0:*]",
              "set grid ytics", "set xtics rotate by -25", "set offsets 0,0,graph 0.15,0"]
    for key, title in panels:
        data = os.path.join(A.work, f"chart-{key}.dat")
        with open(data, "w") as f:
            for i, (name, v) in enumerate(HEADLINE[key].items()):
                colour = "0x2E7D32" if name.startswith("swinit") else "0x78909C"
                f.write(f'{i} "{name}" {v} {colour}\n')
        script += [f"set title '{title}'",
                   f"plot '{data}' using 1:3:4:xtic(2) with boxes lc rgb variable, "
                   f"'' using 1:3:(sprintf('%.3g',$3)) with labels offset 0,0.7"]
    script.append("unset multiplot")
    path = os.path.join(A.work, "chart.gp")
    with open(path, "w") as f:
        f.write("\n".join(script) + "\n")
    subprocess.run(["gnuplot", path], check=True)
    return True


# ---------------------------------------------------------------- report
def versions():
    def pkg(name):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True)
        return r.stdout or "?"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
    return [("swinit", f"commit {commit}, `scripts/build-static.sh`"),
            ("swinit-run", f"commit {commit}, `swift build -c release -Xswiftc -static-executable`"),
            ("swift", swift[0] if swift else "?"),
            ("tini / tini-static", f"Debian tini {pkg('tini')}"), ("dumb-init", f"Debian {pkg('dumb-init')}"),
            ("catatonit", f"Debian {pkg('catatonit')}"), ("bubblewrap", f"Debian {pkg('bubblewrap')}"),
            ("crun", f"Debian {pkg('crun')}"), ("busybox (root)", f"Debian busybox-static {pkg('busybox-static')}"),
            ("musl (benchkit)", f"Debian musl-tools {pkg('musl-tools')}")]


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    return [("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
            ("CPU", f"{cpu}, {os.cpu_count()} cores"), ("memory", mem),
            ("kernel", f"{platform.release()} ({platform.machine()})"),
            ("OS", run(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]).strip()),
            ("load average at start", open("/proc/loadavg").read().split()[0:3]),
            ("mode", "--quick (development figures, not for quoting)" if QUICK else "full"),
            ("seed", A.seed)]


def write_report(started, machine_rows):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")) as f:
        closing = f.read()
    lines = ["# Benchmarks", "",
             "Written by `scripts/bench.sh`" + (" --quick" if QUICK else "") +
             f" in {time.time() - started:.0f} s. Every candidate of a measurement runs in the same run, in a new "
             "random order each round; figures are medians with their spread. The machine is shared (other work "
             "ran on its 2 cores meanwhile), so absolute times are noisy; compare within a table. Raw data: the "
             "results directory printed at the end of the run.", "",
             "![headline figures](benchmarks.png)", "",
             "## Targets", "", table(["target", "swinit's figure", "verdict", "note"], TARGETS), "",
             "## Machine and versions", "",
             table(["", ""], [(k, " ".join(v) if isinstance(v, list) else v) for k, v in machine_rows + versions()]), "",
             "Repeat (as root) with `scripts/bench.sh` (about 8 minutes; `--quick`: under a minute).", ""]
    lines += REPORT
    lines += [closing]
    with open(A.report, "w") as f:
        f.write("\n".join(lines))


def main():
    started = time.time()
    machine_rows = machine()  # the load average before the run, not after its 100-container rounds
    steps = [(1, m1_size), (2, m2_overhead), (3, m3_idle), (4, m4_latency), (7, m7_launch),
             (5, m5_reaping), (6, m6_storm), (8, m8_concurrent), (9, m9_budget)]
    for number, step in steps:
        if wanted(number):
            step()
    REPORT.sort(key=lambda s: int(s.split(".")[0][3:]))
    chart()
    write_report(started, machine_rows)
    log(f"report: {A.report}, chart: {A.chart}, raw data: {A.results}")
    for t in TARGETS:
        log(" | ".join(t[:3]))


main()
