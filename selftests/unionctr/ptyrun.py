#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ptyrun: run a command on a fresh pseudo-terminal, as a user's shell would.

  ptyrun.py [--expect TEXT --send TEXT]... [--timeout S] [--termios] -- CMD...

The command is the session leader and foreground process group of the pty,
so a Ctrl-C sent as "\\x03" becomes SIGINT to it (unless raw mode is on).
Each --expect waits for TEXT in the output so far; the --send after it is
written to the terminal then (escapes like \\x03, \\n are decoded).
What the terminal showed goes to stdout (without "\\r"); then, with
--termios, one line "ptyrun: termios same" or "ptyrun: termios changed"
(the terminal's modes before the command and after it ended).  The exit
status is the command's (128+N for signal N, 124 on timeout).
"""
import argparse
import os
import select
import signal
import sys
import termios
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--send", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--termios", action="store_true")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    steps = list(zip(a.expect, [s.encode().decode("unicode_escape").encode("latin-1")
                                for s in a.send]))
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        import fcntl
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.execvp(a.cmd[0], a.cmd)
    out = b""
    deadline = time.monotonic() + a.timeout
    status = None
    step = 0
    while True:
        if step < len(steps) and steps[step][0].encode() in out:
            os.write(master, steps[step][1])
            step += 1
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
            sys.stdout.write("\nptyrun: timeout (step %d)\n" % step)
            return 124
        r, _, _ = select.select([master], [], [], min(left, 0.1))
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            out += data
            continue
        if status is None:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                status = st
        elif not r:
            break  # exited and nothing more to read
    after = termios.tcgetattr(slave)
    sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
    if a.termios:
        sys.stdout.write("\nptyrun: termios %s\n" % ("same" if before == after else "changed"))
    sys.stdout.flush()
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
