"""Free local ports for the stack's processes and the tests' own servers.

A port is found by binding port 0 and closing the socket, and the process that will listen
on it binds it later. In between, the kernel may hand the same number to the next bind of
port 0, so two services of one stack could be given one port; the second then fails to
bind while the first answers its health checks. ``free_port`` never gives out a number
twice in one process, which closes that gap for everything the stack and the tests start.
"""

from __future__ import annotations

import socket
import threading

HOST = "127.0.0.1"
_given: set[int] = set()
_lock = threading.Lock()


def free_port() -> int:
    """A port nobody listens on now and that this process has not handed out before."""
    with _lock:
        while True:
            with socket.socket() as sock:
                sock.bind((HOST, 0))
                port = int(sock.getsockname()[1])
            if port not in _given:
                _given.add(port)
                return port


def port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now."""
    with socket.socket() as sock:
        # As servers do: connections of a just-stopped stack in TIME_WAIT must not count as
        # "in use", while a listening socket still does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True
