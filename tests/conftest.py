"""Session fixtures shared by integration and function tests: one local stack per test session."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.local.authemu import AuthEmulator
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
def stack_info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    info = reusable_stack()
    stack = None
    if info is None:
        stack = start_stack(tmp_path_factory.mktemp("stack"))
        info = stack.info()
    saved = dict(os.environ)
    os.environ.update(client_env(info))
    try:
        yield info
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if stack is not None:
            stack.stop()


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
