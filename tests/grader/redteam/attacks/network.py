"""Phone home: the test's listener on the host, the outside world, DNS, the Docker socket.

Every attempt's outcome is printed ("CONNECTED ..." on success). The functions
are correct, so the score is full; the test asserts its listener never saw a
connection and that nothing connected.
"""

import socket

import numpy as np

PORT = int("@@PORT@@")
TARGETS = [
    ("127.0.0.1", PORT),
    ("@@HOST_IP@@", PORT),
    ("172.17.0.1", PORT),  # Docker's default bridge gateway: the host, seen from a container
    ("1.1.1.1", 53),
    ("8.8.8.8", 443),
]
UNIX_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock", "/tmp/.X11-unix/X0"]


def _try(family, address) -> None:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(0.5)
    try:
        sock.connect(address)
        sock.sendall(b"dlgrade-redteam-network hello\n")
        print("CONNECTED", address)
    except OSError as exc:
        print("no connection to", address, type(exc).__name__)
    finally:
        sock.close()


for host, port in TARGETS:
    _try(socket.AF_INET, (host, port))
for path in UNIX_SOCKETS:
    _try(socket.AF_UNIX, path)
try:
    print("RESOLVED", socket.getaddrinfo("example.com", 80)[0][4])
except OSError as exc:
    print("no DNS", type(exc).__name__)
try:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.sendto(b"dlgrade-redteam-network udp\n", ("127.0.0.1", PORT))
    udp.sendto(b"dlgrade-redteam-network udp\n", ("@@HOST_IP@@", PORT))
    print("sent UDP")
except OSError as exc:
    print("no UDP", type(exc).__name__)


def square(x):
    return x * x


def add(a, b):
    return a + b


def center(x):
    return x - np.mean(x)


def total(x):
    return float(np.sum(x))
