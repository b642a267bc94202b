"""The security suite reuses the function-tier fixtures (in-process entry points against the
local stack's emulators) and the unit tier's fakes."""

from tests.functions.conftest import emulators, functions, problem, signing_key

__all__ = ["emulators", "functions", "problem", "signing_key"]
