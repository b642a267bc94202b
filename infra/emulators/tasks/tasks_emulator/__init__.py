"""A Cloud Tasks emulator speaking the google.cloud.tasks.v2.CloudTasks gRPC API."""

__version__ = "0.1.0"
