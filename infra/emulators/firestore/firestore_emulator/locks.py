"""Exclusive per-document locks with age-ordered hand-off, deadlock detection, wait timeout.

Read-write transactions lock every document they read and write (reads take the same
exclusive lock writes need, so a read-modify-write never has to upgrade a shared lock:
with shared locks, N concurrent increments would all deadlock at commit and N-1 of them
abort each round). Contenders queue and receive the lock in turn, so a hot
document serialises its transactions instead of aborting them. A waiter only loses
(is "doomed") when it closes a wait-for cycle or has waited longer than the timeout.
Waiters are served oldest first (a retried transaction keeps its first attempt's age), so
a transaction that already lost a conflict is not starved by newcomers.
All methods run with the owning database's mutex held.
"""

import bisect
import itertools
import threading
import time

_ages = itertools.count(1)


def next_age() -> int:
    return next(_ages)


class LockOwner:
    """Anything that can hold locks: a transaction or a single non-transactional write."""

    def __init__(self, age: int) -> None:
        self.age = age
        self.held: set[str] = set()
        self.waiting: LockEntry | None = None
        self.doomed: str | None = None


class LockEntry:
    __slots__ = ("cond", "holder", "queue")

    def __init__(self, holder: LockOwner, mutex: threading.Lock) -> None:
        self.holder: LockOwner | None = holder
        self.queue: list[LockOwner] = []  # waiters, oldest first
        self.cond = threading.Condition(mutex)


class LockTable:
    def __init__(self, mutex: threading.Lock, timeout: float) -> None:
        self.mutex = mutex
        self.timeout = timeout
        self.entries: dict[str, LockEntry] = {}

    def acquire(self, owner: LockOwner, name: str) -> bool:
        """Block until `owner` holds `name`; False if the owner was doomed meanwhile."""
        if owner.doomed is not None:
            return False
        entry = self.entries.get(name)
        if entry is None:
            self.entries[name] = LockEntry(owner, self.mutex)
            owner.held.add(name)
            return True
        if entry.holder is owner:
            return True
        bisect.insort(entry.queue, owner, key=lambda o: o.age)
        owner.waiting = entry
        victim = self._deadlock_victim(owner)
        if victim is not None:
            self.doom(victim, "deadlock between transactions")
        self._wait(owner, entry)
        return owner.doomed is None

    def _wait(self, owner: LockOwner, entry: LockEntry) -> None:
        deadline = time.monotonic() + self.timeout
        while entry.holder is not owner and owner.doomed is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.doom(owner, f"lock wait timed out after {self.timeout:g}s")
                break
            entry.cond.wait(remaining)
        owner.waiting = None

    def release_all(self, owner: LockOwner) -> None:
        for name in owner.held:
            entry = self.entries.get(name)
            if entry is None or entry.holder is not owner:
                continue
            if entry.queue:
                entry.holder = entry.queue.pop(0)
                entry.holder.held.add(name)
                entry.cond.notify_all()
            else:
                del self.entries[name]
        owner.held = set()

    def doom(self, owner: LockOwner, reason: str) -> None:
        """Abort `owner`: drop it from any queue and hand its locks to the next waiters."""
        if owner.doomed is None:
            owner.doomed = reason
        entry = owner.waiting
        if entry is not None:
            if owner in entry.queue:
                entry.queue.remove(owner)
            entry.cond.notify_all()
        self.release_all(owner)

    def _blockers(self, owner: LockOwner) -> list[LockOwner]:
        entry = owner.waiting
        if entry is None:
            return []
        ahead = list(itertools.takewhile(lambda o: o is not owner, entry.queue))
        return ([entry.holder] if entry.holder is not None else []) + ahead

    def _deadlock_victim(self, start: LockOwner) -> LockOwner | None:
        """If `start` now waits in a cycle, return the youngest member of that cycle."""
        path: list[LockOwner] = []
        seen: set[int] = set()

        def visit(node: LockOwner) -> list[LockOwner] | None:
            for nxt in self._blockers(node):
                if nxt is start:
                    return [*path, node]
                if id(nxt) not in seen:
                    seen.add(id(nxt))
                    path.append(node)
                    found = visit(nxt)
                    path.pop()
                    if found:
                        return found
            return None

        cycle = visit(start)
        return max(cycle, key=lambda o: o.age) if cycle else None
