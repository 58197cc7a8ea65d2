# SPDX-License-Identifier: GPL-2.0-or-later
"""ptydrive: runs a command on a real pty, as a terminal emulator would, and
lets a test type at it, read what it shows, resize it and look at the
terminal's state afterwards.  Imported by the python snippets of
tests/test-pty.sh and by tests/bench/pty.

The driver keeps the slave open too (as a terminal emulator's own copy of
the caller's terminal would be): its modes can be read after the command
is gone, and so can the input queue, where keystrokes pushed with TIOCSTI
into the caller's terminal would wait for the caller's shell."""
import errno
import fcntl
import os
import re
import select
import signal
import struct
import termios
import time
import tty


def _exec(argv, env):
    if env is None:
        os.execvp(argv[0], argv)
    os.execvpe(argv[0], argv, env)


def _job_shell(argv, env, foreground, report, orders):
    """A shell's part, and nothing else: the command is a job of its own
    (a process group in this session, not orphaned, so Ctrl-Z and SIGTSTP
    stop it), in the terminal's foreground or not; when it stops, the
    terminal goes back to this "shell" (its modes untouched: what the job
    left is what the test sees), and "f" on @orders puts it in the
    foreground again and continues it, as fg does (a job started in the
    background waits for that "f" first)."""
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        os.close(report)
        os.close(orders)
        _exec(argv, env)
    os.setpgid(job, job)
    if foreground:
        os.tcsetpgrp(0, job)
    elif os.read(orders, 1) == b"f":
        # A job started with & and brought to the foreground.
        os.tcsetpgrp(0, job)
        os.killpg(job, signal.SIGCONT)
    while True:
        _, st = os.waitpid(job, os.WUNTRACED)
        if os.WIFSTOPPED(st):
            os.tcsetpgrp(0, os.getpgrp())
            os.write(report, b"S")
        else:
            code = os.waitstatus_to_exitcode(st)
            os._exit(code if code >= 0 else 128 - code)
        if os.read(orders, 1) != b"f":
            os._exit(125)
        os.tcsetpgrp(0, job)
        os.killpg(job, signal.SIGCONT)


def wait_until(predicate, timeout=10):
    """Polls @predicate until it is true (returns True) or @timeout."""
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def process_state(cmdline):
    """The state letter (R, S, T...) of a process whose command line is
    @cmdline (a list), as the host sees it, or None."""
    want = "\0".join(cmdline).encode() + b"\0"
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if open("/proc/%s/cmdline" % pid, "rb").read() != want:
                continue
            stat = open("/proc/%s/stat" % pid).read()
        except OSError:
            continue
        return stat.rsplit(")", 1)[1].split()[0]
    return None


class Session:
    def __init__(self, argv, rows=24, cols=80, env=None, job=False, foreground=True):
        """Runs @argv as the session leader of a new terminal, or, with
        @job, as a job of a minimal shell there (see _job_shell)."""
        self.master, self.slave = os.openpty()
        self.resize(rows, cols, signal_group=False)
        self.output = b""
        self.status = None
        if job:
            report_r, report_w = os.pipe()
            orders_r, orders_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(self.slave, fd)
                if job:
                    os.dup2(report_w, 3)
                    os.dup2(orders_r, 4)
                    os.closerange(5, 1024)
                    _job_shell(argv, env, foreground, 3, 4)
                os.closerange(3, 1024)
                _exec(argv, env)
            finally:
                os._exit(127)
        self.pid = pid
        if job:
            os.close(report_w)
            os.close(orders_r)
            self.reports, self.orders = report_r, orders_w
        os.set_blocking(self.master, False)
        self.before = self.termios()

    # --- job control (job=True) -------------------------------------------------

    def stopped(self, timeout=10):
        """Whether the job stopped (and the shell has the terminal back)."""
        r, _, _ = select.select([self.reports], [], [], timeout)
        return bool(r) and os.read(self.reports, 1) == b"S"

    def fg(self):
        os.write(self.orders, b"f")

    # --- the caller's terminal -------------------------------------------------

    def termios(self):
        return termios.tcgetattr(self.slave)

    def resize(self, rows, cols, signal_group=True):
        """TIOCSWINSZ: the kernel sends SIGWINCH to the foreground group."""
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def pending_input(self):
        """Bytes waiting in the caller's terminal's input queue (FIONREAD,
        out of canonical mode first, so that a line not ended yet counts
        too).  Changes the terminal's modes: call it last."""
        tty.setraw(self.slave, termios.TCSANOW)  # TCSAFLUSH would discard it
        buf = fcntl.ioctl(self.slave, termios.FIONREAD, b"\0\0\0\0")
        return struct.unpack("i", buf)[0]

    def foreground(self):
        return os.tcgetpgrp(self.slave)

    # --- typing and reading ----------------------------------------------------------

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        os.write(self.master, data)

    def hangup(self):
        """Closes the terminal emulator's side, as closing its window does."""
        os.close(self.master)
        self.master = None

    def _read(self, timeout):
        if self.master is None:
            time.sleep(timeout)
            return False
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EIO):
                return False
            raise
        self.output += chunk
        return bool(chunk)

    def text(self):
        return self.output.decode(errors="replace").replace("\r", "")

    def expect(self, pattern, timeout=10, since=0):
        """Waits until the output after offset @since matches @pattern (a
        regex; the output keeps its \\r)."""
        end = time.time() + timeout
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        while True:
            m = rx.search(self.output, since)
            if m:
                return m
            left = end - time.time()
            if left <= 0:
                return None
            self._read(min(left, 0.2))

    def poll_exit(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                if self.status < 0:
                    self.status = 128 - self.status
        return self.status

    def wait(self, timeout=10):
        """The command's exit status (128+N for a signal), or None after
        @timeout; the output is read meanwhile, and drained after."""
        end = time.time() + timeout
        while self.poll_exit() is None and time.time() < end:
            self._read(0.05)
        while self._read(0.05):
            pass
        return self.status

    def kill(self, sig=signal.SIGKILL):
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def close(self):
        if self.poll_exit() is None:
            self.kill()
            self.wait(5)
        if self.master is not None:
            os.close(self.master)
        os.close(self.slave)
        if hasattr(self, "orders"):
            os.close(self.orders)
            os.close(self.reports)
