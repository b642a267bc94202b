"""gRPC wiring: registers google.firestore.v1.Firestore on a grpc.server."""

import sys
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn, Protocol, TypeVar

import grpc

from . import pb
from .errors import RpcError
from .service import FirestoreService

SERVICE = "google.firestore.v1.Firestore"
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
UNIMPLEMENTED = {
    "Write": "the streaming Write API",
    "PartitionQuery": "query partitioning",
    "ExecutePipeline": "pipeline queries",
}


Req = TypeVar("Req", bound=pb.Message)
Resp = TypeVar("Resp", bound=pb.Message)


class BindError(Exception):
    pass


class Context(Protocol):
    """The part of grpc.ServicerContext the handlers use (grpc ships no type information)."""

    def abort(self, code: grpc.StatusCode, details: str) -> NoReturn:
        """Always raises, which ends the RPC with `code`."""

    def add_callback(self, callback: Callable[[], None]) -> bool:
        """Call `callback` when the RPC terminates, however it ends."""


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


def _stream(fn: Callable[[Req], Iterator[Resp]], req_type: type[Req]) -> grpc.RpcMethodHandler:
    def handle(request: Req, context: Context) -> Iterator[Resp]:
        try:
            yield from fn(request)
        except Exception as exc:
            _abort(context, exc)

    return grpc.unary_stream_rpc_method_handler(
        handle, request_deserializer=req_type.FromString, response_serializer=_serialize
    )


def _listen(svc: FirestoreService) -> grpc.RpcMethodHandler:
    def handle(requests: Iterator[pb.ListenRequest], context: Context) -> Iterator[pb.Message]:
        listener = svc.listen(requests)
        # However the RPC ends (client close or cancel, server stop), the stream must end.
        context.add_callback(listener.close)
        try:
            yield from listener.responses()
        except Exception as exc:
            _abort(context, exc)

    return grpc.stream_stream_rpc_method_handler(
        handle, request_deserializer=pb.ListenRequest.FromString, response_serializer=_serialize
    )


def _serialize(msg: pb.Message) -> bytes:
    return msg.SerializeToString()


def _unimplemented(method: str) -> grpc.RpcMethodHandler:
    message = (
        f"{SERVICE}/{method} is not supported by this emulator ({UNIMPLEMENTED[method]} "
        "are not implemented); use the unary methods (Commit, RunQuery) instead."
    )

    def handle(request: object, context: Context) -> NoReturn:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, message)

    if method == "Write":
        return grpc.stream_stream_rpc_method_handler(handle)
    if method == "ExecutePipeline":
        return grpc.unary_stream_rpc_method_handler(handle)
    return grpc.unary_unary_rpc_method_handler(handle)


def handlers(svc: FirestoreService) -> dict[str, grpc.RpcMethodHandler]:
    table = {
        "GetDocument": _unary(svc.get_document, pb.GetDocumentRequest),
        "ListDocuments": _unary(svc.list_documents, pb.ListDocumentsRequest),
        "CreateDocument": _unary(svc.create_document, pb.CreateDocumentRequest),
        "UpdateDocument": _unary(svc.update_document, pb.UpdateDocumentRequest),
        "DeleteDocument": _unary(svc.delete_document, pb.DeleteDocumentRequest),
        "BatchGetDocuments": _stream(svc.batch_get_documents, pb.BatchGetDocumentsRequest),
        "BeginTransaction": _unary(svc.begin_transaction, pb.BeginTransactionRequest),
        "Commit": _unary(svc.commit, pb.CommitRequest),
        "Rollback": _unary(svc.rollback, pb.RollbackRequest),
        "RunQuery": _stream(svc.run_query, pb.RunQueryRequest),
        "RunAggregationQuery": _stream(svc.run_aggregation_query, pb.RunAggregationQueryRequest),
        "ListCollectionIds": _unary(svc.list_collection_ids, pb.ListCollectionIdsRequest),
        "BatchWrite": _unary(svc.batch_write, pb.BatchWriteRequest),
        "Listen": _listen(svc),
    }
    table.update({m: _unimplemented(m) for m in UNIMPLEMENTED})
    return table


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def build_server(svc: FirestoreService, host: str, port: int, workers: int) -> grpc.Server:
    """Bind the gRPC server; raise BindError if the port is taken."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="firestore-rpc"),
        options=[
            # Without this, gRPC would silently share a port another server already uses.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers(svc)),))
    try:
        bound = server.add_insecure_port(host_port(host, port))
    except RuntimeError as exc:
        raise BindError(f"cannot listen for gRPC on port {port} ({host}): {exc}") from exc
    if bound == 0:
        raise BindError(f"cannot listen for gRPC on port {port} ({host}): address in use")
    return server
