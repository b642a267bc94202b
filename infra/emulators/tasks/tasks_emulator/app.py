"""The composition root: builds every part once and owns the servers' lifecycle."""

from dataclasses import dataclass, field

from .admin import Admin
from .attempts import Attempts
from .clock import Clock, SystemClock
from .delivery import HttpSender, Sender
from .dispatcher import Dispatcher
from .http_admin import AdminServer
from .oidc import TokenSigner
from .server import BindError, build_server, host_port
from .service import TasksService
from .state import State


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8123
    http_port: int | None = None
    tombstone_seconds: float = 3600.0
    min_dispatch_deadline: float = 15.0
    queues: list[str] = field(default_factory=list)
    workers: int = 32


class Emulator:
    def __init__(
        self, config: Config, clock: Clock | None = None, sender: Sender | None = None
    ) -> None:
        self.config = config
        self.http_port = config.http_port if config.http_port is not None else config.port + 1
        self.clock = clock or SystemClock()
        self.state = State(config.tombstone_seconds)
        signer = TokenSigner(self.clock.now())
        attempts = Attempts(self.state, signer)
        self.dispatcher = Dispatcher(self.state, attempts, self.clock, sender or HttpSender())
        service = TasksService(
            self.state, attempts, self.dispatcher, self.clock, config.min_dispatch_deadline
        )
        self.admin = Admin(self.state, attempts, self.dispatcher, signer, self.clock, config.queues)
        self.admin.reset()  # creates the --queue queues
        self.grpc = build_server(service, config.host, config.port, config.workers)
        try:
            self.http = AdminServer(config.host, self.http_port, self.admin)
        except OSError as exc:
            self.grpc.stop(None)
            raise BindError(f"cannot listen for HTTP on port {self.http_port}: {exc}") from exc

    def ready_line(self) -> str:
        grpc_addr = host_port(self.config.host, self.config.port)
        http_addr = host_port(self.config.host, self.http_port)
        return f"tasks-emulator ready grpc={grpc_addr} http={http_addr}"

    def start(self) -> None:
        self.grpc.start()
        self.http.start()
        self.dispatcher.start()

    def stop(self) -> None:
        """Stop taking requests and stop dispatching; attempts in flight are abandoned."""
        done = self.grpc.stop(grace=0.5)
        self.dispatcher.stop()
        self.http.shutdown()
        self.http.server_close()
        done.wait(1.0)
