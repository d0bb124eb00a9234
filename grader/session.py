"""The trusted half of the protocol: a runner process in a sandbox, spoken to in plain data.

A ``RunnerSession`` starts the runner on first use, loads the submission, and
turns each call into a request frame. It never trusts what comes back beyond
decoding it with the strict codec. A call that hangs is answered by killing
the sandbox; the next call starts a fresh runner, so one hanging function costs
only the checks that call it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import signal
import struct
import termios
import threading
import time
from dataclasses import dataclass
from typing import Any

from grader import codec, replies
from grader.messages import CheckStatus, clip
from grader.sandbox.base import SANDBOX_ROOT, Sandbox
from grader.sandbox.owned import wait_fd

RUNNER_ARGV = ["python3", f"{SANDBOX_ROOT}/runner/runner.py", SANDBOX_ROOT]
# The largest reply read from the sandbox. The course's biggest honest answers are
# a few MB (10 000 x 10 predictions are 800 KB); reading and decoding one costs about
# three times its size in this process, which must stay small whatever is sent.
# How long a runner may take to exit on its own at the end (its output drained) before the kill.
CLOSE_DRAIN_SECONDS = 2.0
RESPONSE_MAX_BYTES = 64 * 1024 * 1024
# Time limits are CPU time where the sandbox can count it (CallClock): wall time is only
# the backstop that ends a program which sleeps or blocks, this many times the limit.
WALL_BACKSTOP_FACTOR = 4
# At the backstop, a call whose off-CPU time was at least this share spent runnable but
# waiting for a CPU was starved by the host, not asleep: it is given wall time up to
# STARVED_BACKSTOP_FACTOR times its limit to reach one (its CPU limit, or an answer), and
# past that there is no verdict (a platform fault, retried later).
STARVED_SHARE = 0.5
STARVED_BACKSTOP_FACTOR = 12
# How long a sandbox may take to exist at all (a Docker engine on a loaded host is slow to
# create containers): the clock starts once it does; past this, a platform fault.
START_LIMIT_S = 180.0
# How often a call's CPU time is read while it runs (a reply ends the wait at once).
POLL_S = 0.25


class StudentError(Exception):
    """A call into the student's code did not produce a value: the check fails with this."""

    def __init__(self, status: CheckStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class PlatformFault(Exception):
    """The sandbox failed through no doing of the submission: no verdict can be given.

    A SIGKILL that the kernel's OOM killer did not send, a container removed
    underneath, a runner cut off mid-frame by such a kill, a call starved of CPU
    by a busy host. The grading stops; a worker grades the submission again.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoadFailed(StudentError):
    """The submission's file did not load: the checks that needed it did not run."""


class _Samples:
    """The latest stack sample the runner sent while a request ran: where the student's
    code was. Information for the report only, never a verdict; one kept at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latest: tuple[int, tuple[str, ...]] | None = None

    def put(self, request_id: int, lines: tuple[str, ...]) -> None:
        with self.lock:
            self.latest = (request_id, lines)

    def of(self, request_id: int) -> tuple[str, ...]:
        with self.lock:
            latest = self.latest
        return latest[1] if latest is not None and latest[0] == request_id else ()


@dataclass(frozen=True)
class LoadSpec:
    """How the runner loads the submission (from the assignment manifest)."""

    file: str
    module: str
    mode: str = "import"  # or "script"
    global_name: str | None = None
    data_links: dict[str, str] | None = None
    seconds: float = 60.0
    # Set by the engine when it grades without a GPU: the runner maps CUDA onto the CPU.
    cuda_on_cpu: bool = False


class CallClock:
    """One call's time limit: CPU seconds of the sandbox's cgroup, wall time the backstop.

    As isolate and DOMjudge judge: a limit of N seconds is N seconds of CPU on
    each of the assignment's ``cpus`` cores, counted for all of the
    submission's processes together; a busy host slows the call down without
    charging it. A program that sleeps or blocks uses no CPU, so a wall-clock
    backstop of ``WALL_BACKSTOP_FACTOR`` times the limit ends it. One starved
    of CPU rather than asleep (its off-CPU time mostly spent waiting for a
    CPU) is given up to ``STARVED_BACKSTOP_FACTOR`` times the limit to reach a
    verdict; past that the host is at fault, and the call has no verdict.

    Where the sandbox cannot count CPU time (no cgroup accounting), the limit
    is wall-clock, as it always was; the report says which.
    """

    def __init__(self, sandbox: Sandbox, seconds: float) -> None:
        self.sandbox = sandbox
        self.seconds = seconds
        self.cpu_limit = seconds * sandbox.spec.limits.cpus
        self.backstop = seconds * WALL_BACKSTOP_FACTOR
        self.created = self.t0 = time.monotonic()
        self.cpu0: float | None = None
        # Where the starvation measure begins (wall, CPU used, time spent waiting for a
        # CPU): at the call's first look at the clock, not at its start, because reading
        # the waiting time costs more than most calls take (on cgroup v1 it reads every
        # thread's run-queue delay), and a call that ends before its first poll needs none.
        self.waited_from: tuple[float, float, float | None] | None = None
        self.used = 0.0
        self._begin()

    def _begin(self) -> None:
        """Start counting once the sandbox's CPU time can be read (it exists)."""
        if self.cpu0 is None and self.sandbox.measures_cpu:
            cpu = self.sandbox.cpu_seconds()
            if cpu is not None:
                self.cpu0, self.t0 = cpu, time.monotonic()

    @property
    def counts_cpu(self) -> bool:
        return self.cpu0 is not None

    def poll_seconds(self) -> float:
        """How long to wait for a reply before looking at the clock again."""
        if self.cpu0 is None and not self.sandbox.measures_cpu:
            return max(0.0, self.seconds - (time.monotonic() - self.created))
        return POLL_S

    def over(self) -> StudentError | PlatformFault | None:
        """The call's end if its time is up: a timeout verdict, or a fault of the host."""
        now = time.monotonic()
        self._begin()
        if self.cpu0 is None:
            if self.sandbox.measures_cpu:  # its cgroup does not exist yet: still starting
                if now - self.created > START_LIMIT_S:
                    return PlatformFault(f"the sandbox did not start within {START_LIMIT_S:g} s")
                return None
            if now - self.created >= self.seconds:
                return StudentError(
                    CheckStatus.TIMEOUT, f"took longer than the {self.seconds:g} s limit"
                )
            return None
        cpu = self.sandbox.cpu_seconds()
        if cpu is None:
            return None  # the group is gone: the runner died, and its reader says so
        self.used = max(self.used, cpu - self.cpu0)
        if self.used >= self.cpu_limit:
            return StudentError(
                CheckStatus.TIMEOUT,
                f"took longer than the {self.seconds:g} s limit ({self.used:.1f} s of CPU time)",
            )
        if self.waited_from is None:
            self.waited_from = (now, self.used, self.sandbox.waiting_seconds())
        wall = now - self.t0
        if wall < self.backstop:
            return None
        since, used_then, waiting_then = self.waited_from
        waiting = self.sandbox.waiting_seconds()
        waited = 0.0
        if waiting is not None and waiting_then is not None:
            waited = waiting - waiting_then
        off_cpu = (now - since) - (self.used - used_then)
        if waited >= STARVED_SHARE * max(off_cpu, 1e-9):
            if wall < self.seconds * STARVED_BACKSTOP_FACTOR:
                return None  # starved, not asleep: more time to reach its CPU limit
            return PlatformFault(
                f"the host was too busy: in {wall:.0f} s of wall time the call got "
                f"{self.used:.1f} s of CPU and waited {waited:.0f} s for one"
            )
        return StudentError(
            CheckStatus.TIMEOUT,
            f"took longer than the {self.seconds:g} s limit: still running after "
            f"{wall:.0f} s of wall time, having used {self.used:.1f} s of CPU time "
            "(sleeping or blocked; the limit is CPU time, and wall time up to "
            f"{WALL_BACKSTOP_FACTOR} times it)",
        )

    def spent(self) -> float:
        """What this call cost the submission's total: its CPU time, or its wall time."""
        if self.cpu0 is not None:
            cpu = self.sandbox.cpu_seconds()
            if cpu is not None:
                self.used = max(self.used, cpu - self.cpu0)
            return self.used
        return time.monotonic() - self.created


class OutputCapture:
    """Drains a pipe in the background, keeping the first ``limit`` bytes."""

    def __init__(self, pipe, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.starts: list[int] = []  # where each kept chunk begins in the stream
        self.kept = 0
        self.room = limit  # bytes that may still be kept; reset at a mark (a new section)
        self.total = 0
        self.lock = threading.Lock()
        self.reading = False  # blocked in read(): everything drained so far is counted
        try:
            self.fd: int | None = pipe.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
        self.thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self.thread.start()

    def _drain(self, pipe) -> None:
        while True:
            with self.lock:
                self.reading = True
            try:
                chunk = pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            with self.lock:
                self.reading = False
                if self.room > 0:
                    self.chunks.append(chunk[: self.room])
                    self.starts.append(self.total)
                    self.kept += len(self.chunks[-1])
                    self.room -= len(self.chunks[-1])
                self.total += len(chunk)

    def section(self, seconds: float = 0.5) -> int:
        """Start a new section of the output here: its position, and a fresh ``limit``."""
        position = self.settled_total(seconds)
        with self.lock:
            self.room = self.limit
        return position

    def split(self, position: int) -> tuple[bytes, bytes]:
        """The kept bytes before and from ``position`` in the stream."""
        before, after = [], []
        with self.lock:
            pieces = list(zip(self.starts, self.chunks, strict=True))
        for start, data in pieces:
            cut = min(max(position - start, 0), len(data))
            before.append(data[:cut])
            after.append(data[cut:])
        return b"".join(before), b"".join(after)

    def settled_total(self, seconds: float = 0.5) -> int:
        """Bytes drained so far, once what already sits in the pipe is drained too.

        Every byte counted was read, hence printed, before this returns: a
        position taken before a request is sent never includes that request's
        output. The wait only makes the position later (less of the earlier
        output misfiled after it); a race or a time-out makes it earlier, which
        withholds more, never less.
        """
        deadline = time.monotonic() + seconds
        while True:
            with self.lock:
                total, reading = self.total, self.reading
            if not self.thread.is_alive() or time.monotonic() >= deadline:
                return total
            if reading and _pending_bytes(self.fd) == 0:
                return total
            time.sleep(0.002)


def _where(lines: tuple[str, ...]) -> str:
    """Where a call that ran out of time was, from the runner's last sample before the kill."""
    if not lines:
        return ""
    return "; when it was stopped, your code was here (most recent call last):\n" + "\n".join(lines)


def _pending_bytes(fd: int | None) -> int:
    """Bytes waiting in a pipe (FIONREAD); 0 when it is closed or cannot say."""
    if fd is None:
        return 0
    try:
        buf = fcntl.ioctl(fd, termios.FIONREAD, struct.pack("i", 0))
    except OSError:
        return 0
    return int(struct.unpack("i", buf)[0])


class RunnerSession:
    def __init__(self, sandbox: Sandbox, load: LoadSpec, output_limit: int = 64 * 1024) -> None:
        self.sandbox = sandbox
        self.load_spec = load
        self.output_limit = output_limit
        self.proc = None
        self.responses: queue.Queue = queue.Queue()
        self.samples = _Samples()
        self.captures: list[OutputCapture] = []
        self.next_id = 0
        self.load_result: Any = None
        # A load that failed (syntax error, import-time timeout) fails every later
        # check at once instead of paying for it again. Its message goes to the first
        # check and the report; later checks point there rather than copy it.
        self.load_failure: StudentError | None = None
        self.starts = 0
        self.peak_kb = 0  # as the runner reports it: shown in the report, never a verdict
        # Seconds from the first start to the runner's answer to its load: the sandbox's
        # start (container, interpreter) and the submission's imports (an operator's figure).
        self.first_ready_s: float | None = None
        # What the calls so far cost the submission's total time limit (CallClock.spent),
        # and whether any of them was counted in CPU time.
        self.spent = 0.0
        self.counted_cpu = False

    # -- process management ----------------------------------------------------------
    def _start(self) -> None:
        if self.proc is not None:
            # The last runner exited between two calls (poll() found it, and reaped it).
            # End all it left (processes in its group, its pipes) and let the sandbox
            # forget it before a fresh start: a runner is never left for a later kill.
            self._stop()
        self.proc = self.sandbox.start(list(RUNNER_ARGV))
        self.starts += 1
        self.responses = queue.Queue()
        self.samples = _Samples()
        self.captures.append(OutputCapture(self.proc.stderr, self.output_limit))
        threading.Thread(
            target=self._read_responses,
            args=(self.proc.stdout, self.responses, self.samples),
            daemon=True,
        ).start()

    @staticmethod
    def _read_responses(pipe, responses: queue.Queue, samples: _Samples) -> None:
        while True:
            if responses.qsize() > 1:
                # Each request gets one reply, taken before the next is sent: a second
                # waiting frame is the submission writing unasked (its next read fails the
                # call). Stop reading, or a flood of frames piles up in this process's memory.
                return
            try:
                frame = codec.decode(codec.read_frame(pipe, RESPONSE_MAX_BYTES))
                if replies.is_sample(frame):
                    # Where the code is while a call runs: kept aside (the latest only),
                    # never queued as a reply. A malformed one is dropped: it would only
                    # have been shown, so nothing is lost and nothing is judged by it.
                    sample = replies.check_sample(frame)
                    if sample is not None:
                        samples.put(*sample)
                    continue
                responses.put(frame)
            except EOFError:
                responses.put(EOFError())
                return
            except (codec.CodecError, OSError, ValueError) as exc:
                responses.put(exc)
                return
            except Exception as exc:  # e.g. MemoryError: whatever was sent, it is unusable
                responses.put(codec.CodecError(f"an unreadable reply ({type(exc).__name__})"))
                return

    def _stop(self) -> None:
        self.sandbox.kill()
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=10)
            if self.captures:
                # Let the output reader drain what the process printed before it died.
                self.captures[-1].thread.join(timeout=2)
            for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                with contextlib.suppress(OSError, ValueError):
                    if pipe is not None:
                        pipe.close()
        self.proc = None

    def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            # A runner at rest exits when its input ends. Let it, briefly, before the
            # kill: what it printed last (relayed late by the Docker client) is then
            # counted and kept rather than cut off. Nothing waited on is reaped here.
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdin.close()
            if self.captures:
                self.captures[-1].thread.join(timeout=CLOSE_DRAIN_SECONDS)
        self._stop()
        for cap in self.captures:
            cap.thread.join(timeout=2)

    # -- requests ----------------------------------------------------------------
    def _send(self, frame: bytes, clock: CallClock) -> bool:
        """Write one request within the call's time; False when the pipe broke.

        A runner that stops reading (stopped, or its reader replaced) leaves a
        large request blocked in the pipe: the write is timed like the rest of
        the call, and a sandbox that will not take its input is killed.
        Non-blocking writes with a poll() deadline, on this thread: no
        thread per request.
        """
        stdin = self.proc.stdin
        try:
            fd = stdin.fileno()
        except (OSError, ValueError):
            return False
        data = memoryview(codec.frame_bytes(frame))
        os.set_blocking(fd, False)
        while data:
            try:
                written = os.write(fd, data)
            except BlockingIOError:
                written = 0
            except OSError:  # BrokenPipeError: the runner is gone
                return False
            data = data[written:]
            if not data:
                break
            over = clock.over()
            if over is not None:
                self._stop()
                if isinstance(over, StudentError):
                    raise StudentError(
                        over.status, f"{over.message} (it stopped reading its input)"
                    )
                raise over
            wait_fd(fd, max(0.01, min(POLL_S, clock.poll_seconds())), write=True)
        return True

    def _exchange(self, request: dict, seconds: float) -> Any:
        self.next_id += 1
        request = {**request, "id": self.next_id}
        clock = CallClock(self.sandbox, seconds)
        try:
            return self._exchange_timed(request, clock)
        finally:
            self.spent += clock.spent()
            self.counted_cpu = self.counted_cpu or clock.counts_cpu

    def _exchange_timed(self, request: dict, clock: CallClock) -> Any:
        if not self._send(codec.encode(request), clock):
            return self._died()
        while True:
            try:
                reply = self.responses.get(timeout=clock.poll_seconds())
            except queue.Empty:
                over = clock.over()
                if over is None:
                    continue
                self._stop()
                if isinstance(over, StudentError) and over.status == CheckStatus.TIMEOUT:
                    # Where the code was, from the runner's last sample before the kill.
                    where = _where(self.samples.of(request["id"]))
                    over = StudentError(over.status, over.message + where)
                raise over from None
            if isinstance(reply, BaseException):
                return self._died(reply)
            try:
                checked = replies.check_reply(reply, self.next_id, request["op"])
            except replies.ProtocolViolation as err:
                # Forged, stale or malformed: the stream can no longer be trusted to line
                # up, and only the submission's code can have written it.
                self._stop()
                raise StudentError(CheckStatus.CRASH, str(err)) from None
            if checked.rss_kb is not None:
                self.peak_kb = max(self.peak_kb, checked.rss_kb)  # informational only
            if checked.ok:
                return checked.value
            assert checked.error is not None  # check_reply: a failed reply has one
            raise StudentError(checked.error.status, checked.error.text)

    def _died(self, why: BaseException | None = None) -> Any:
        """The runner stopped answering: a verdict on the submission, or a PlatformFault.

        Only what the submission did is charged to it. A SIGKILL is a memory
        verdict only when the kernel's OOM killer counted a kill in the sandbox
        (``oom_kills``); any other SIGKILL came from outside (an operator, a
        host's own OOM killer, a container removed) and is a platform fault,
        and so is a frame cut short by such a kill.
        """
        proc = self.proc
        code = None
        truncated = isinstance(why, codec.TruncatedFrame)
        # Malformed data says all there is to say, and the process may well be alive:
        # waiting for its exit status would only add seconds to the call's limit. A
        # frame cut short is told apart by how the writer ended.
        malformed = isinstance(why, codec.CodecError) and not truncated
        if proc is not None and not malformed:
            try:
                code = proc.wait(timeout=5)
            except Exception:
                code = None
        self._stop()
        killed = code in (-signal.SIGKILL, 128 + signal.SIGKILL)
        if isinstance(why, codec.CodecError) and not killed:
            raise StudentError(
                CheckStatus.CRASH, f"the submission sent malformed data ({clip(str(why), 500)})"
            )
        if self.sandbox.vanished():
            raise PlatformFault("the sandbox was removed from outside while the submission ran")
        if killed:
            if self.sandbox.oom_kills() > 0:
                mb = self.sandbox.spec.limits.memory_mb
                raise StudentError(
                    CheckStatus.MEMORY,
                    f"killed: together, your code's processes went past the memory limit "
                    f"of {mb} MB",
                )
            raise PlatformFault(
                "the sandbox's process was killed from outside (not by the submission's "
                "memory limit)" + (", in the middle of a reply" if truncated else "")
            )
        raise StudentError(
            CheckStatus.CRASH, f"the process exited during the call (exit status {code})"
        )

    def ensure_loaded(self) -> Any:
        if self.load_failure is not None:
            raise LoadFailed(
                self.load_failure.status,
                f"not run: {self.load_spec.file} could not be loaded (see the first check)",
            )
        if self.proc is not None and self.proc.poll() is None:
            return self.load_result
        t0 = time.monotonic()
        self._start()
        spec = self.load_spec
        request = {
            "op": "load",
            "file": spec.file,
            "module": spec.module,
            "mode": spec.mode,
            "global_name": spec.global_name,
            "data_links": spec.data_links or {},
            "cuda": "cpu" if spec.cuda_on_cpu else "device",
        }
        try:
            self.load_result = self._exchange(request, spec.seconds)
            if self.first_ready_s is None:
                self.first_ready_s = round(time.monotonic() - t0, 3)
        except StudentError as err:
            prefix = f"could not load {spec.file}: "
            self.load_failure = LoadFailed(err.status, prefix + err.message)
            raise self.load_failure from None
        return self.load_result

    def request(self, request: dict, seconds: float) -> Any:
        self.ensure_loaded()
        return self._exchange(request, seconds)

    def output(self) -> tuple[str, int]:
        """Everything the submission printed (truncated), and the total byte count."""
        data = b"".join(b"".join(c.chunks) for c in self.captures)[: self.output_limit]
        total = sum(c.total for c in self.captures)
        return data.decode("utf-8", errors="replace"), total

    def mark(self) -> tuple[int, int]:
        """A position in the output: what is printed after this call lies after it.

        The output after it is kept up to ``output_limit`` of its own, so a flood
        before the mark cannot crowd out what staff need to see after it.
        """
        if not self.captures:
            return (0, 0)
        return (len(self.captures) - 1, self.captures[-1].section())

    def output_split(self, mark: tuple[int, int]) -> tuple[tuple[str, int], tuple[str, int]]:
        """The output before and after ``mark``: (text, bytes printed) each, each truncated."""
        index, offset = mark
        before, after = b"", b""
        printed_before = printed_after = 0
        for i, cap in enumerate(self.captures):
            with cap.lock:
                total = cap.total
            # Runners started after the mark are all "after"; those before it all "before".
            cut = min(offset, total) if i == index else (0 if i > index else total)
            head, tail = cap.split(cut)
            before, printed_before = before + head, printed_before + cut
            after, printed_after = after + tail, printed_after + total - cut
        limit = self.output_limit
        return (
            (before[:limit].decode("utf-8", errors="replace"), printed_before),
            (after[:limit].decode("utf-8", errors="replace"), printed_after),
        )
