"""The Cloud Tasks emulator as a subprocess (tests/emulators/process.py), and talking to it."""

from __future__ import annotations

import grpc
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from tests.emulators.process import TASKS, EmulatorProcess
from tests.emulators.tasks.helpers import Admin

EMULATOR_PATH = TASKS.path


class TasksEmulatorProcess(EmulatorProcess):
    def client(self) -> tasks_v2.CloudTasksClient:
        channel = grpc.insecure_channel(self.host)
        return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))

    def admin(self) -> Admin:
        return Admin(self.http_port)


def emulator_command(*args: str) -> tuple[list[str], dict[str, str]]:
    return TASKS.command(*args)


def launch_emulator(*extra: str) -> TasksEmulatorProcess:
    return TASKS.launch(*extra, kind=TasksEmulatorProcess)
