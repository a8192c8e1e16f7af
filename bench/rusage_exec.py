"""Run one command and write its wall time and its process tree's CPU time and peak memory as JSON.

A fresh process whose only children are the command's, so ``RUSAGE_CHILDREN`` measures that command alone:

    python -m bench.rusage_exec OUT.json TIMEOUT -- ansible-playbook ...
"""

import json
import os
import resource
import signal
import subprocess
import sys
import time


def _stop(process):
    for sig, wait in ((signal.SIGINT, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue


def main(argv):
    signal.signal(signal.SIGTERM, _interrupted)
    out_file, timeout = argv[0], float(argv[1])
    command = argv[argv.index("--") + 1:]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    timed_out = False
    # Its own process group, so a timeout or an interrupt stops ansible's workers too.
    process = subprocess.Popen(command, start_new_session=True)
    try:
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        returncode, timed_out = -9, True
        _stop(process)
    except BaseException:
        _stop(process)
        raise
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out_file, "w", encoding="utf-8") as handle:
        json.dump({
            "returncode": returncode,
            "timed_out": timed_out,
            "started": started,
            "ended": ended,
            "wall_seconds": round(ended - started, 3),
            "cpu_user_seconds": round(after.ru_utime - before.ru_utime, 3),
            "cpu_system_seconds": round(after.ru_stime - before.ru_stime, 3),
            "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3),
            # Linux reports ru_maxrss in KiB: the largest resident set of any one process of the tree.
            "peak_rss_mib": round(after.ru_maxrss / 1024, 1),
        }, handle)
    return 0 if returncode == 0 else 1


def _interrupted(*_args):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
