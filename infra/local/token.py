"""`make token EMAIL=... [ROLE=admin]`: print a fresh Firebase ID token from the running stack."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.local.authemu import AuthEmulator

STACK_JSON = Path(__file__).resolve().parents[2] / ".local" / "stack.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("email")
    parser.add_argument("--role", choices=["admin", "user", "viewer"], default=None)
    args = parser.parse_args()
    if not STACK_JSON.exists():
        print(
            "no running stack (.local/stack.json missing): start it with `make dev`",
            file=sys.stderr,
        )
        return 1
    info = json.loads(STACK_JSON.read_text())
    auth = AuthEmulator(info["auth_emulator"], info["project_id"])
    try:
        uid = auth.ensure_user(args.email, role=args.role)
        print(auth.id_token(uid))
    except OSError as exc:
        print(
            f"auth emulator at {info['auth_emulator']} not answering ({exc}); is `make dev` up?",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
