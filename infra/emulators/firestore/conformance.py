"""Run the Firestore conformance suite against our emulator and Google's, side by side.

.venv/bin/python infra/emulators/firestore/conformance.py   (or: make conformance)

Our emulator is started by the suite's conftest. Google's (from the Google Cloud CLI) is
used when it is installed and `java` is on PATH: it is started on free ports, the suite
runs against it without test_operability.py (which covers only ours), and it is stopped
afterwards. Each run writes pytest's junit XML; the table lists every test with both
outcomes and marks the tests of production rules Google's emulator lacks
(@pytest.mark.production_rule, run there as xfail).

Exit status 1 if a test fails against ours, or fails against Google's without being a
production rule; 0 otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SUITE = "tests/emulators/firestore"
OPERABILITY = f"{SUITE}/test_operability.py"
GCLOUD_PLATFORM = Path("/usr/lib/google-cloud-sdk/platform")
OFFICIAL = GCLOUD_PLATFORM / "cloud-firestore-emulator/cloud_firestore_emulator"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
BAD = {"FAIL", "ERROR"}

Outcomes = dict[str, tuple[str, str]]  # test id: (outcome, production-rule reason or "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_suite(junit: Path, host: str | None) -> Outcomes:
    """Run the suite (against `host`, or our own emulator when None); parse its outcomes."""
    env = {k: v for k, v in os.environ.items() if k != "FIRESTORE_EMULATOR_HOST"}
    args = [sys.executable, "-m", "pytest", SUITE, "-q", "-p", "no:cacheprovider"]
    if host is not None:
        env["FIRESTORE_EMULATOR_HOST"] = host
        args.append(f"--ignore={OPERABILITY}")
    label = host or "our emulator"
    print(f"conformance: running the suite against {label}", flush=True)
    subprocess.run([*args, f"--junitxml={junit}"], cwd=REPO, env=env, check=False)
    return parse_junit(junit)


def parse_junit(junit: Path) -> Outcomes:
    outcomes: Outcomes = {}
    if not junit.exists():
        return outcomes
    # The XML is what our own pytest run just wrote, not untrusted input.
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314
        module = case.get("classname", "").rsplit(".", 1)[-1]
        props = {p.get("name"): p.get("value", "") for p in case.iter("property")}
        rule = props.get("production_rule") or ""
        outcomes[f"{module}::{case.get('name')}"] = (_outcome(case), rule)
    return outcomes


def _outcome(case: ET.Element) -> str:
    if case.find("failure") is not None:
        return "FAIL"
    if case.find("error") is not None:
        return "ERROR"
    skipped = case.find("skipped")
    if skipped is not None:
        return "xfail" if skipped.get("type") == "pytest.xfail" else "skip"
    return "pass"


def official_available() -> bool:
    return OFFICIAL.exists() and shutil.which("java") is not None


def start_official(log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start Google's emulator in its own process group; return it and its host:port.

    Its output goes to `log_path` (the child keeps the file open after we close it).
    """
    port, ws_port = free_port(), free_port()
    cmd = [str(OFFICIAL), "start", "--host=127.0.0.1", f"--port={port}"]
    cmd.append(f"--websocket_port={ws_port}")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"Google's emulator exited ({proc.returncode}):\n{tail}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.5)
    stop_official(proc)
    raise RuntimeError(f"Google's emulator did not listen on port {port}")


def stop_official(proc: subprocess.Popen[bytes]) -> None:
    """Stop the launcher script and the JVM it started: the whole process group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and _group_alive(proc):
            time.sleep(0.2)
        if not _group_alive(proc):
            break
    proc.wait()


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    proc.poll()  # reap the script, so only live members keep the group
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    return True


def run_official(junit: Path) -> Outcomes | None:
    if not official_available():
        print(f"conformance: Google's emulator not run ({OFFICIAL} or java is missing)")
        return None
    proc, host = start_official(junit.with_suffix(".log"))
    try:
        outcomes = run_suite(junit, host)
    finally:
        stop_official(proc)
    # Against Google's emulator a production-rule test is an xfail; a pass is an XPASS.
    return {t: ("XPASS" if r and o == "pass" else o, r) for t, (o, r) in outcomes.items()}


def table(ours: Outcomes, official: Outcomes | None) -> list[str]:
    tests = sorted(set(ours) | set(official or {}))
    width = max([len(t) for t in tests] + [4])
    rows = [f"{'test':<{width}}  {'ours':<6}  {'official':<8}  note", "-" * (width + 30)]
    for test in tests:
        mine, rule = ours.get(test, ("-", ""))
        theirs, rule2 = (official or {}).get(test, ("-", ""))
        note = "production rule" if rule or rule2 else ""
        rows.append(f"{test:<{width}}  {mine:<6}  {theirs:<8}  {note}".rstrip())
    return rows


def summary(name: str, outcomes: Outcomes) -> str:
    counts: dict[str, int] = {}
    for outcome, _ in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return f"{name}: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        ours = run_suite(Path(tmp, "ours.xml"), None)
        official = run_official(Path(tmp, "official.xml"))
    print("\n".join(["", *table(ours, official), ""]))
    print(summary("ours", ours))
    rules: dict[str, str] = {}
    if official is not None:
        print(summary("official", official))
        rules = {t: r for t, (_, r) in official.items() if r}
    for test, reason in sorted(rules.items()):
        print(f"production rule {test}: {reason}")
    failed = [t for t, (o, _) in ours.items() if o in BAD]
    failed += [f"{t} (official)" for t, (o, _) in (official or {}).items() if o in BAD]
    if not ours:
        failed.append("no results from our emulator's run")
    for test in failed:
        print(f"FAILED {test}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
