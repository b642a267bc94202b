"""The running emulator: gRPC + HTTP admin servers, maintenance thread, persistence."""

import threading
from dataclasses import dataclass

from . import persistence
from .http_admin import AdminServer
from .server import BindError, build_server, host_port
from .service import FirestoreService
from .store import Store
from .transactions import abort_all, expire_idle

MAINTENANCE_INTERVAL_S = 1.0
PERSIST_INTERVAL_S = 2.0
SWEEP_EVERY = 10


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    http_port: int | None = None
    data_dir: str | None = None
    lock_timeout: float = 10.0
    workers: int = 256


class Emulator:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.http_port = config.http_port if config.http_port is not None else config.port + 1
        self.store = Store(config.lock_timeout)
        if config.data_dir:
            persistence.load(self.store, config.data_dir)
        self._stop = threading.Event()
        self.grpc = build_server(
            FirestoreService(self.store), config.host, config.port, config.workers
        )
        try:
            self.http = AdminServer(config.host, self.http_port, self.reset)
        except OSError as exc:
            self.grpc.stop(None)
            raise BindError(f"cannot listen for HTTP on port {self.http_port}: {exc}") from exc

    def ready_line(self) -> str:
        grpc_addr = host_port(self.config.host, self.config.port)
        http_addr = host_port(self.config.host, self.http_port)
        return f"firestore-emulator ready grpc={grpc_addr} http={http_addr}"

    def start(self) -> None:
        self.grpc.start()
        self.http.start()
        threading.Thread(target=self._maintain, name="firestore-maint", daemon=True).start()

    def reset(self, project: str, database: str) -> None:
        old = self.store.replace(project, database)
        if old is not None:
            with old.mutex:
                abort_all(old, "the database was reset")
                old.close_watchers()

    def stop(self) -> None:
        """Stop serving, wake every lock waiter, then persist (if configured)."""
        self._stop.set()
        done = self.grpc.stop(grace=1.0)
        for db in self.store.all():
            with db.mutex:
                abort_all(db, "the emulator is shutting down")
        done.wait(2.0)
        self.http.shutdown()
        self.http.server_close()
        if self.config.data_dir:
            persistence.save(self.store, self.config.data_dir, force=True)

    def _maintain(self) -> None:
        ticks = 0
        last_persist = 0.0
        while not self._stop.wait(MAINTENANCE_INTERVAL_S):
            ticks += 1
            for db in self.store.all():
                with db.mutex:
                    expire_idle(db)
                    if ticks % SWEEP_EVERY == 0:
                        db.sweep()
            last_persist += MAINTENANCE_INTERVAL_S
            if self.config.data_dir and last_persist >= PERSIST_INTERVAL_S:
                last_persist = 0.0
                persistence.save(self.store, self.config.data_dir)
