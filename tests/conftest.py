"""Session fixtures shared by integration and function tests: one local stack per test session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.local.authemu import AuthEmulator
from infra.local.stack import Stack
from tests.support.harness import (
    Gateway,
    User,
    client_env,
    new_user,
    reset_state,
    reusable_stack,
    start_stack,
)


@pytest.fixture(scope="session")
def session_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, Any], Stack | None]]:
    """The stack for this session: a reused live one (GENMEDIA_REUSE_STACK=1) or our own."""
    info = reusable_stack()
    stack = None
    if info is None:
        stack = start_stack(tmp_path_factory.mktemp("stack"))
        info = stack.info()
    saved = dict(os.environ)
    os.environ.update(client_env(info))
    try:
        yield info, stack
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if stack is not None:
            stack.stop()


@pytest.fixture(scope="session")
def stack_info(session_stack: tuple[dict[str, Any], Stack | None]) -> dict[str, Any]:
    return session_stack[0]


@pytest.fixture(scope="session")
def controllable_stack(
    session_stack: tuple[dict[str, Any], Stack | None], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A stack whose processes tests may restart: the session's own, or a private one."""
    owned = session_stack[1]
    if owned is not None:
        yield owned
        return
    private = start_stack(tmp_path_factory.mktemp("private-stack"))
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture
def clean_stack(stack_info: dict[str, Any]) -> dict[str, Any]:
    reset_state(stack_info)
    return stack_info


@pytest.fixture(scope="session")
def auth_emulator(stack_info: dict[str, Any]) -> AuthEmulator:
    return AuthEmulator(stack_info["auth_emulator"], stack_info["project_id"])


@pytest.fixture
def make_user(clean_stack: dict[str, Any], auth_emulator: AuthEmulator) -> Callable[..., User]:
    return lambda role=None, email=None: new_user(auth_emulator, role, email)


@pytest.fixture(scope="session")
def gateway(stack_info: dict[str, Any]) -> Gateway:
    return Gateway(stack_info["gateway"])
