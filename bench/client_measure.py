#!/usr/bin/python3
"""Run one command and measure the whole process: wall time, peak RSS, CPU.

    client_measure.py --out FILE [--timeout S] [--label KEY=VALUE ...] -- COMMAND [ARG...]

The command runs under GNU time (/usr/bin/time), in a session of its own, with stdin
from /dev/null and stdout and stderr inherited. When it ends (or is killed after
--timeout seconds, process group and all), FILE gets one JSON object:

    {"wall_s": ..., "maxrss_kib": ..., "user_s": ..., "sys_s": ..., "exit": N|null,
     "signal": N|null, "timed_out": bool, "argv": [...], ...labels}

maxrss_kib, user_s and sys_s are GNU time's %M %U %S for the command: its wait4()
rusage (ru_maxrss is the largest resident set of the command or of any descendant
it waited for; CPU covers the command and those descendants). GNU time, not this
script, forks the command, on purpose: Linux carries the peak RSS of the image a
process was forked from into its ru_maxrss across exec, so a command forked from
Python would start at Python's ~10 MiB, while one forked from GNU time starts below
1 MiB (`/usr/bin/time -f %M /bin/true` says about 0.9 MiB: the floor of every figure
here).

wall_s is time.monotonic() from just before starting GNU time to its exit, so it
covers exec, dynamic loading and interpreter start-up (GNU time's own %e has only
10 ms resolution; its fork and exec add about a millisecond).

Exit status: 0 when FILE was written (whatever the command's status), 2 on a usage
error or when GNU time could not be started.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

GNU_TIME = "/usr/bin/time"


def parse_args(argv):
    out, timeout, labels = None, 0.0, {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if a in ("--out", "--timeout", "--label") and i + 1 < len(argv):
            v = argv[i + 1]
            if a == "--out":
                out = v
            elif a == "--timeout":
                timeout = float(v)
            else:
                k, sep, val = v.partition("=")
                if not sep:
                    sys.exit("client_measure.py: --label wants KEY=VALUE")
                labels[k] = val
            i += 2
            continue
        sys.exit("client_measure.py: unknown argument %r (usage: see the top of this file)" % a)
    return out, timeout, labels, argv[i:]


def main(argv):
    out, timeout, labels, cmd = parse_args(argv)
    if not out or not cmd:
        print(__doc__, file=sys.stderr)
        return 2
    if not os.access(GNU_TIME, os.X_OK):
        print("client_measure.py: %s not found (Debian: apt-get install time)" % GNU_TIME, file=sys.stderr)
        return 2

    child = {"pid": None, "timed_out": False}

    def kill_group(*_):
        if child["pid"] is not None:
            try:
                os.killpg(child["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass

    def on_alarm(*_):
        child["timed_out"] = True
        kill_group()

    def on_term(signum, _frame):
        kill_group()
        if child["pid"] is not None:
            try:
                os.waitpid(child["pid"], 0)
            except ChildProcessError:
                pass
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGALRM, on_alarm)

    tfile = out + ".time"
    try:
        os.unlink(tfile)
    except FileNotFoundError:
        pass
    t0 = time.monotonic()
    try:
        p = subprocess.Popen([GNU_TIME, "-f", "%M %U %S", "-o", tfile, "--"] + cmd,
                             stdin=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except OSError as e:
        print("client_measure.py: cannot run %s: %s" % (GNU_TIME, e), file=sys.stderr)
        return 2
    child["pid"] = p.pid
    if timeout > 0:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    _, status, _ = os.wait4(p.pid, 0)  # retried across the alarm handler (PEP 475)
    t1 = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, 0)
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped: keep Popen from waiting
    child["pid"] = None
    # whatever the command left behind in its session (it should leave nothing)
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass

    # GNU time's file: "Command exited with non-zero status N" or "Command terminated
    # by signal N" first when so, then "%M %U %S". GNU time exits with the command's
    # status (128+N after a signal). When GNU time itself was killed (the timeout
    # kills the whole group) the file may be empty and the figures are null.
    maxrss = user = system = sig = None
    try:
        with open(tfile) as f:
            lines = f.read().splitlines()
        os.unlink(tfile)
    except OSError:
        lines = []
    for line in lines:
        m = re.match(r"Command terminated by signal (\d+)", line)
        if m:
            sig = int(m.group(1))
        m = re.match(r"(\d+) (\d+\.\d+) (\d+\.\d+)$", line)
        if m:
            maxrss, user, system = int(m.group(1)), float(m.group(2)), float(m.group(3))
    exit_code = None
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
    elif sig is None:
        exit_code = os.WEXITSTATUS(status)

    res = dict(labels)
    res.update(wall_s=round(t1 - t0, 4), maxrss_kib=maxrss, user_s=user, sys_s=system,
               exit=exit_code, signal=sig, timed_out=child["timed_out"], argv=cmd)
    with open(out, "w") as f:
        json.dump(res, f)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
