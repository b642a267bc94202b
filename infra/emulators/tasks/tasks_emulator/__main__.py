"""Command line: python -m tasks_emulator --host H --port P [--http-port Q] [options]."""

import argparse
import os
import signal
import sys
import threading

from . import names
from .app import Config, Emulator
from .server import BindError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tasks_emulator", description="Cloud Tasks emulator (gRPC google.cloud.tasks.v2)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface for both ports")
    parser.add_argument("--port", type=int, default=8123, help="gRPC port")
    parser.add_argument("--http-port", type=int, default=None, help="admin port (default port+1)")
    parser.add_argument(
        "--tombstone-seconds",
        type=float,
        default=3600.0,
        help="how long the name of a finished or deleted task stays taken (production: ~1h)",
    )
    parser.add_argument(
        "--min-dispatch-deadline",
        type=float,
        default=15.0,
        help="smallest dispatch_deadline accepted, in seconds (production: 15; lower it in tests)",
    )
    parser.add_argument(
        "--queue",
        action="append",
        default=[],
        metavar="NAME",
        help="create this queue (projects/P/locations/L/queues/Q) at start and on reset",
    )
    parser.add_argument("--workers", type=int, default=32, help="gRPC worker threads")
    return parser


def parse_args(argv: list[str] | None = None) -> Config:
    parser = _parser()
    args = parser.parse_args(argv)
    for name in args.queue:
        if not names.QUEUE_RE.match(name):
            parser.error(f"--queue {name!r}: expected projects/PROJECT/locations/LOC/queues/QUEUE")
    if not 0 < args.min_dispatch_deadline <= 1800 or args.tombstone_seconds < 0:
        parser.error("--min-dispatch-deadline must be in (0, 1800] and --tombstone-seconds >= 0")
    return Config(
        host=args.host,
        port=args.port,
        http_port=args.http_port,
        tombstone_seconds=args.tombstone_seconds,
        min_dispatch_deadline=args.min_dispatch_deadline,
        queues=args.queue,
        workers=args.workers,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    try:
        emulator = Emulator(config)
    except BindError as exc:
        print(f"tasks-emulator: {exc}", file=sys.stderr, flush=True)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    emulator.start()
    print(emulator.ready_line(), flush=True)
    # A short poll keeps SIGTERM-to-exit well under a second.
    while not stop.wait(0.1):
        pass
    emulator.stop()
    sys.stdout.flush()
    sys.stderr.flush()
    # Attempt threads may still wait on slow workers; they must not delay the exit.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
