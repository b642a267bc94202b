"""gRPC wiring: google.cloud.tasks.v2.CloudTasks on a grpc.server, and the error mapping."""

import sys
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn, Protocol, TypeVar

import grpc

from . import pb
from .errors import RpcError
from .service import TasksService

SERVICE = "google.cloud.tasks.v2.CloudTasks"
UNIMPLEMENTED = {
    "GetIamPolicy": "IAM policies",
    "SetIamPolicy": "IAM policies",
    "TestIamPermissions": "IAM permissions",
    "BatchCreateTasks": "batch task creation (a long-running operation)",
    "BatchDeleteTasks": "batch task deletion (a long-running operation)",
    "GetCmekConfig": "CMEK configuration",
    "UpdateCmekConfig": "CMEK configuration",
}

Req = TypeVar("Req", bound=pb.Message)
Resp = TypeVar("Resp", bound=pb.Message)


class BindError(Exception):
    pass


class Context(Protocol):
    """The part of grpc.ServicerContext the handlers use (grpc ships no type information)."""

    def abort(self, code: grpc.StatusCode, details: str) -> NoReturn:
        """Always raises, which ends the RPC with `code`."""


def _abort(context: Context, exc: BaseException) -> NoReturn:
    if isinstance(exc, RpcError):
        context.abort(exc.code, exc.message)
    traceback.print_exc(file=sys.stderr)
    context.abort(grpc.StatusCode.INTERNAL, f"Emulator error: {exc!r}")


def _unary(fn: Callable[[Req], Resp], req_type: type[Req]) -> grpc.RpcMethodHandler:
    def handle(request: Req, context: Context) -> Resp:
        try:
            return fn(request)
        except Exception as exc:
            _abort(context, exc)

    return grpc.unary_unary_rpc_method_handler(
        handle, request_deserializer=req_type.FromString, response_serializer=_serialize
    )


def _serialize(msg: pb.Message) -> bytes:
    return msg.SerializeToString()


def _unimplemented(method: str) -> grpc.RpcMethodHandler:
    message = f"{SERVICE}/{method} is not supported by this emulator ({UNIMPLEMENTED[method]})"

    def handle(request: object, context: Context) -> NoReturn:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, message)

    return grpc.unary_unary_rpc_method_handler(handle)


def handlers(svc: TasksService) -> dict[str, grpc.RpcMethodHandler]:
    table = {
        "ListQueues": _unary(svc.list_queues, pb.ListQueuesRequest),
        "GetQueue": _unary(svc.get_queue, pb.GetQueueRequest),
        "CreateQueue": _unary(svc.create_queue, pb.CreateQueueRequest),
        "UpdateQueue": _unary(svc.update_queue, pb.UpdateQueueRequest),
        "DeleteQueue": _unary(svc.delete_queue, pb.DeleteQueueRequest),
        "PurgeQueue": _unary(svc.purge_queue, pb.PurgeQueueRequest),
        "PauseQueue": _unary(svc.pause_queue, pb.PauseQueueRequest),
        "ResumeQueue": _unary(svc.resume_queue, pb.ResumeQueueRequest),
        "ListTasks": _unary(svc.list_tasks, pb.ListTasksRequest),
        "GetTask": _unary(svc.get_task, pb.GetTaskRequest),
        "CreateTask": _unary(svc.create_task, pb.CreateTaskRequest),
        "DeleteTask": _unary(svc.delete_task, pb.DeleteTaskRequest),
        "RunTask": _unary(svc.run_task, pb.RunTaskRequest),
    }
    table.update({m: _unimplemented(m) for m in UNIMPLEMENTED})
    return table


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def build_server(svc: TasksService, host: str, port: int, workers: int) -> grpc.Server:
    """Bind the gRPC server; raise BindError if the port is taken."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tasks-rpc"),
        # Without this, gRPC would silently share a port another server already uses.
        options=[("grpc.so_reuseport", 0)],
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers(svc)),))
    try:
        bound = server.add_insecure_port(host_port(host, port))
    except RuntimeError as exc:
        raise BindError(f"cannot listen for gRPC on port {port} ({host}): {exc}") from exc
    if bound == 0:
        raise BindError(f"cannot listen for gRPC on port {port} ({host}): address in use")
    return server
