"""The protocol's channel into a Docker sandbox: a Unix socket in its /sandbox.

Through ``docker run -i`` every request and every reply is relayed by the Docker
client, the engine and the container's shim. A round trip costs 0.5-0.75 ms on
an idle 2-core host and 2-9 ms on a busy one (bench/bench_grading.py), and a
45-check grading makes about a hundred. So the runner in a container speaks the
protocol over a Unix socket the trusted side listens on in the folder that
becomes its /sandbox (a bind mount carries AF_UNIX connections, read-only or not,
and ``--network none`` does not touch them): 0.05-0.1 ms a round trip.

- The socket is made in that folder, named with a random token, just before the
  runner is started (cold) or told to go (pooled); the runner is given its path
  (``runner.py /sandbox --channel PATH``).
- The runner connects twice before it imports anything of the submission:
  requests, then replies, each connection its own (each end is then blocking or
  not on its own, as with the pipes). It tags each with one byte.
- The trusted side accepts exactly those two, each from the sandbox's uid
  (SO_PEERCRED) with the right tag, then closes the listener and removes the
  socket file: from then on nobody can connect, the submission included.
- Everything else is as before: the submission's printed output still reaches
  the trusted side on stderr through Docker, and the Docker client's exit
  status is still the container's.

A channel that cannot be set up (a socket path too long, a runner that exits
or never connects) is a fault of the platform, raised as ``SandboxUnavailable``:
no student code has run by then.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import socket
import struct
import subprocess
import time
from pathlib import Path

from grader.sandbox.base import SANDBOX_ROOT, SandboxUnavailable
from grader.sandbox.owned import wait_fd

# The tags the runner sends first on each connection (grader/runner.py says the same).
REQUESTS_TAG = b"<"
REPLIES_TAG = b">"
# How long a runner may take to connect: its container's start on a busy host included
# (the session gives a sandbox as long to start: session.START_LIMIT_S).
CONNECT_TIMEOUT_S = 180.0
# sockaddr_un's sun_path: longer paths cannot be bound.
MAX_PATH_BYTES = 107


class Listener:
    """A socket listening in ``folder`` (the host side of /sandbox) for one runner."""

    def __init__(self, folder: Path, uid: int) -> None:
        self.name = f".channel-{secrets.token_hex(8)}"
        self.path = Path(folder) / self.name
        self.uid = uid
        if len(os.fsencode(self.path)) > MAX_PATH_BYTES:
            raise SandboxUnavailable(f"the socket path {self.path} is too long for a channel")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.bind(str(self.path))
            os.chmod(self.path, 0o666)  # the sandbox's uid connects; the folder is 0755
            self.sock.listen(2)
        except OSError as exc:
            self.close()
            raise SandboxUnavailable(f"could not listen for the sandbox's channel: {exc}") from None

    def runner_argv(self, argv: list[str]) -> list[str]:
        """``argv`` with the socket's path as the runner sees it."""
        return [*argv, "--channel", f"{SANDBOX_ROOT}/{self.name}"]

    def connect(self, proc: subprocess.Popen[bytes], client_pidfd: int) -> None:
        """Accept the runner's two connections and put them in place of ``proc``'s pipes.

        ``proc.stdin`` and ``proc.stdout`` become the requests' and the replies'
        sockets; the Docker client's own pipes for them are closed. Raises
        SandboxUnavailable when the client exits, or CONNECT_TIMEOUT_S pass, before
        both are accepted. The listener is closed and its file removed either way.
        """
        accepted: dict[bytes, socket.socket] = {}
        try:
            deadline = time.monotonic() + CONNECT_TIMEOUT_S
            while len(accepted) < 2:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxUnavailable(
                        f"the runner did not connect to its channel within {CONNECT_TIMEOUT_S:g} s"
                    )
                poller = select.poll()
                poller.register(self.sock.fileno(), select.POLLIN)
                poller.register(client_pidfd, select.POLLIN)
                ready = {fd for fd, _ in poller.poll(left * 1000)}
                if self.sock.fileno() in ready:
                    conn, _ = self.sock.accept()
                    tag = self._vetted(conn, deadline)
                    if tag in accepted:
                        conn.close()
                        raise SandboxUnavailable(f"two connections tagged {tag!r} on the channel")
                    accepted[tag] = conn
                elif client_pidfd in ready:
                    raise SandboxUnavailable(
                        "the sandbox ended before its runner connected to its channel"
                        + _stderr_tail(proc)
                    )
        except BaseException:
            for conn in accepted.values():
                conn.close()
            raise
        finally:
            self.close()
        relayed = (proc.stdin, proc.stdout)
        proc.stdin = os.fdopen(accepted[REQUESTS_TAG].detach(), "wb")
        proc.stdout = os.fdopen(accepted[REPLIES_TAG].detach(), "rb")
        for pipe in relayed:
            with contextlib.suppress(OSError, ValueError):
                if pipe is not None:
                    pipe.close()

    def _vetted(self, conn: socket.socket, deadline: float) -> bytes:
        """The tag of a connection from the sandbox's uid; raises for any other."""
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            tag = conn.recv(1) if uid == self.uid else b""
        except OSError:
            tag = b""
        conn.settimeout(None)
        if uid != self.uid or tag not in (REQUESTS_TAG, REPLIES_TAG):
            conn.close()
            raise SandboxUnavailable(
                f"a connection to the sandbox's channel from uid {uid} with tag {tag!r} "
                "was not its runner's"
            )
        return tag

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _stderr_tail(proc: subprocess.Popen[bytes]) -> str:
    """What the ended client printed last, for the fault's message."""
    try:
        if proc.stderr is None or not wait_fd(proc.stderr.fileno(), 0):
            return ""
        text = os.read(proc.stderr.fileno(), 2000).decode(errors="replace").strip()
    except (OSError, ValueError):
        return ""
    return f": {text[-500:]}" if text else ""
