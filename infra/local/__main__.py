"""`make dev`: run the whole local stack in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from infra.local.scheduler import Job, Scheduler
from infra.local.seed import DEMO_EMAIL, DEMO_PASSWORD
from infra.local.stack import (
    ROOT,
    TEST_FUNCTION_ENV,
    Stack,
    StackError,
    StackOptions,
    user_settings,
)


def _scheduled_jobs(stack: Stack) -> list[Job]:
    """The schedules of functions/events.json: one publish each through Pub/Sub, or, for
    direct delivery, one post to every function subscribed to the schedule's topic."""
    schedules = stack.events.schedules.values()
    if stack.pubsub:
        return [Job(s.topic, s.payload) for s in schedules]
    return [
        Job(s.topic, s.payload, stack.function_url(sub.function))
        for s in schedules
        for sub in stack.events.subscriptions.values()
        if sub.topic == s.topic
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description="GenMedia local stack")
    parser.add_argument(
        "--scheduler-interval",
        type=float,
        default=60.0,
        help="seconds between scheduled background events; 0 turns the scheduler off",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=ROOT / ".local",
        help="where stack.json, logs and the local signing key go",
    )
    parser.add_argument(
        "--test-settings",
        action="store_true",
        help="functions use the test suite settings (GENMEDIA_REUSE_STACK=1)",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=ROOT / ".env",
        help="GENMEDIA_* function settings in .env format (the environment wins)",
    )
    args = parser.parse_args()
    settings, ignored = user_settings(dict(os.environ), args.env_file)
    for name in ignored:
        print(f"ignoring {name}: the local stack sets it itself", file=sys.stderr)
    options = StackOptions(
        echo=True,
        state_dir=args.state_dir,
        external_firestore=os.environ.get("FIRESTORE_EMULATOR_HOST"),
        function_env={**settings, **(TEST_FUNCTION_ENV if args.test_settings else {})},
    )
    stack = Stack(options)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    started = time.monotonic()
    try:
        info = stack.start()
    except StackError as exc:
        print(f"local stack failed to start: {exc}", file=sys.stderr)
        return 1
    scheduler = Scheduler(
        options.project_id, _scheduled_jobs(stack), args.scheduler_interval, stack.pubsub_host
    )
    if args.scheduler_interval > 0:
        scheduler.start()
    print(
        f"\nGenMedia local stack ready in {time.monotonic() - started:.1f}s "
        f"({args.state_dir / 'stack.json'} written)\n  gateway   {info['gateway']}/v1/readyz"
    )
    for key in ("auth_emulator", "firestore_emulator", "storage_emulator", "tasks_emulator"):
        print(f"  {key:<19} {info[key]}")
    if stack.pubsub:
        print(f"  {'pubsub_emulator':<19} {info['pubsub_emulator']}  (events delivered by push)")
    else:
        print(f"  {'event delivery':<19} direct CloudEvent posts: {stack.direct_reason}")
    for name, url in info["functions"].items():  # type: ignore[attr-defined]
        print(f"  function {name:<18} {url}")
    if settings:
        print(f"  function settings   {', '.join(f'{k}={v}' for k, v in sorted(settings.items()))}")
    print(
        f"  demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}   token: make token EMAIL={DEMO_EMAIL}\n"
        "Ctrl-C stops everything.",
        flush=True,
    )
    code = 0
    while not stopping.wait(0.5):
        dead = stack.dead_children()
        if dead:
            print(f"local stack: {', '.join(dead)} exited unexpectedly; stopping", file=sys.stderr)
            code = 1
            break
    scheduler.stop()
    stack.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
