"""Command line: python -m firestore_emulator --host H --port P [--http-port Q] [--data-dir D]."""

import argparse
import os
import signal
import sys
import threading

from .app import Config, Emulator
from .server import BindError


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        prog="firestore_emulator", description="Firestore emulator (gRPC google.firestore.v1)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="gRPC port")
    parser.add_argument("--http-port", type=int, default=None, help="admin port (default port+1)")
    parser.add_argument("--data-dir", default=None, help="persist state here across restarts")
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=10.0,
        help="seconds a transaction waits for a document lock before it is aborted",
    )
    parser.add_argument("--workers", type=int, default=256, help="gRPC worker threads")
    args = parser.parse_args(argv)
    return Config(
        host=args.host,
        port=args.port,
        http_port=args.http_port,
        data_dir=args.data_dir,
        lock_timeout=args.lock_timeout,
        workers=args.workers,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    try:
        emulator = Emulator(config)
    except BindError as exc:
        print(f"firestore-emulator: {exc}", file=sys.stderr, flush=True)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    emulator.start()
    print(emulator.ready_line(), flush=True)
    while not stop.wait(0.5):
        pass
    emulator.stop()
    sys.stdout.flush()
    sys.stderr.flush()
    # Worker threads may still sit in client streams; do not let them delay the exit.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
