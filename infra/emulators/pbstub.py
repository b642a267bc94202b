"""Typing stubs for the raw protobuf classes an emulator's ``pb.py`` exposes.

The Google client libraries ship only proto-plus wrappers, and neither they nor protobuf ship
type information, so without a stub every message an emulator handles would be Any to mypy.
``render`` derives the stub from the descriptors of the installed package, so it matches what
the emulator receives and sends. Each emulator has a small script that names its ``Target``
(``firestore/gen_pb_stub.py``, ``tasks/gen_tasks_pb_stub.py``); rerun it after upgrading the
client library, or pass ``--check`` to exit 1 when the stub is out of date.
"""

from __future__ import annotations

import argparse
import keyword
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

# The well-known-type helpers the emulators call; protobuf adds them to these classes at
# runtime, so they are not in the descriptors.
HELPERS = {
    "google.protobuf.Timestamp": [
        "def FromNanoseconds(self, nanos: int) -> None: ...",
        "def ToNanoseconds(self) -> int: ...",
        "def ToJsonString(self) -> str: ...",
    ],
    "google.protobuf.Duration": [
        "def FromNanoseconds(self, nanos: int) -> None: ...",
        "def ToNanoseconds(self) -> int: ...",
        "def ToJsonString(self) -> str: ...",
    ],
    "google.protobuf.FieldMask": [
        "def IsValidForDescriptor(self, message_descriptor: object) -> bool: ...",
        "def MergeMessage(self, source: Message, destination: Message,"
        " replace_message_field: bool = ..., replace_repeated_field: bool = ...) -> None: ...",
    ],
}


@dataclass(frozen=True)
class Target:
    pb: ModuleType  # the emulator's pb module
    package: str  # the proto package whose messages keep their plain names
    stub: Path
    script: str  # the script that regenerates it, for the stub's first line
    library: str  # the client library the descriptors come from
    helpers: dict[str, list[str]] = field(default_factory=lambda: HELPERS)


BASE = """\
#
# HasField and WhichOneof are declared on each message with the names it accepts, so they
# are absent from Message: narrowing their argument in every subclass would break overriding.
# Enum fields are plain ints, as pb.py's constants are. Of the well-known types' helper
# methods only those the emulators use are declared.

from collections.abc import Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from typing import Literal, Self, TypeVar, final, overload

class Message:
    DESCRIPTOR: object
    def CopyFrom(self, other_msg: Self) -> None: ...
    def MergeFrom(self, other_msg: Self) -> None: ...
    def Clear(self) -> None: ...
    def ClearField(self, field_name: str) -> None: ...
    def SetInParent(self) -> None: ...
    def IsInitialized(self) -> bool: ...
    def ByteSize(self) -> int: ...
    def SerializeToString(self, *, deterministic: bool = ...) -> bytes: ...
    def ParseFromString(self, serialized: bytes) -> int: ...
    @classmethod
    def FromString(cls, s: bytes) -> Self: ...

_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")
_M = TypeVar("_M", bound=Message)

class _RepeatedScalar(MutableSequence[_T]):
    @overload
    def __getitem__(self, index: int) -> _T: ...
    @overload
    def __getitem__(self, index: slice) -> list[_T]: ...
    @overload
    def __setitem__(self, index: int, value: _T) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[_T]) -> None: ...
    def __delitem__(self, index: int | slice) -> None: ...
    def __len__(self) -> int: ...
    def insert(self, index: int, value: _T) -> None: ...
    def MergeFrom(self, other: Iterable[_T]) -> None: ...

class _ScalarMap(MutableMapping[_K, _V]):
    def __getitem__(self, key: _K) -> _V: ...
    def __setitem__(self, key: _K, value: _V) -> None: ...
    def __delitem__(self, key: _K) -> None: ...
    def __iter__(self) -> Iterator[_K]: ...
    def __len__(self) -> int: ...
    def MergeFrom(self, other: Mapping[_K, _V]) -> None: ...

# Containers of messages refuse item assignment, so they are not Mutable* collections.

class _RepeatedComposite(Sequence[_M]):
    @overload
    def __getitem__(self, index: int) -> _M: ...
    @overload
    def __getitem__(self, index: slice) -> list[_M]: ...
    def __delitem__(self, index: int | slice) -> None: ...
    def __len__(self) -> int: ...
    def add(self, **kwargs: object) -> _M: ...
    def append(self, value: _M) -> None: ...
    def extend(self, values: Iterable[_M]) -> None: ...
    def insert(self, index: int, value: _M) -> None: ...
    def pop(self, index: int = -1) -> _M: ...
    def remove(self, value: _M) -> None: ...
    def clear(self) -> None: ...
    def MergeFrom(self, other: Iterable[_M]) -> None: ...

class MessageMap(Mapping[_K, _M]):
    def __getitem__(self, key: _K) -> _M: ...  # adds an empty entry for a missing key
    def __delitem__(self, key: _K) -> None: ...
    def __iter__(self) -> Iterator[_K]: ...
    def __len__(self) -> int: ...
    def get_or_create(self, key: _K) -> _M: ...
    def pop(self, key: _K) -> _M: ...
    def clear(self) -> None: ...
    def MergeFrom(self, other: Mapping[_K, _M]) -> None: ...
"""


SCALARS = {
    FieldDescriptor.CPPTYPE_INT32: "int",
    FieldDescriptor.CPPTYPE_INT64: "int",
    FieldDescriptor.CPPTYPE_UINT32: "int",
    FieldDescriptor.CPPTYPE_UINT64: "int",
    FieldDescriptor.CPPTYPE_DOUBLE: "float",
    FieldDescriptor.CPPTYPE_FLOAT: "float",
    FieldDescriptor.CPPTYPE_BOOL: "bool",
    FieldDescriptor.CPPTYPE_ENUM: "int",  # pb.py exposes the enum values as plain ints
}


def _top(d: Descriptor) -> Descriptor:
    while d.containing_type is not None:
        d = d.containing_type
    return d


def _is_map(f: FieldDescriptor) -> bool:
    return bool(f.message_type is not None and f.message_type.GetOptions().map_entry)


def _nested(d: Descriptor) -> list[Descriptor]:
    return [n for n in d.nested_types if not n.GetOptions().map_entry]


class Namer:
    """Stub names: pb.py's names for what it exports, private names for everything else."""

    def __init__(self, exported: dict[str, Any], package: str) -> None:
        self.package = package
        self.top: dict[str, str] = {}
        for name, cls in exported.items():
            if cls.DESCRIPTOR.full_name in self.top:
                raise SystemExit(f"pb.{name} repeats pb.{self.top[cls.DESCRIPTOR.full_name]}")
            self.top[cls.DESCRIPTOR.full_name] = name

    def __call__(self, d: Descriptor) -> str:
        if d.containing_type is not None:
            return f"{self(d.containing_type)}.{d.name}"
        if d.full_name not in self.top:
            package = d.full_name.rsplit(".", 1)[0]
            prefix = "" if package == self.package else package.removeprefix("google.")
            self.top[d.full_name] = "_" + "_".join(filter(None, [*prefix.split("."), d.name]))
        return self.top[d.full_name]


def _scalar(f: FieldDescriptor) -> str:
    if f.cpp_type == FieldDescriptor.CPPTYPE_STRING:
        return "bytes" if f.type == FieldDescriptor.TYPE_BYTES else "str"
    return SCALARS[f.cpp_type]


def _value_type(f: FieldDescriptor, name: Namer) -> str:
    return name(f.message_type) if f.message_type is not None else _scalar(f)


def _field(f: FieldDescriptor, name: Namer) -> tuple[str, bool, str]:
    """(attribute type, whether it is read-only, __init__ parameter) of one field.

    Only scalar fields can be assigned: messages and containers are changed in place.
    """
    if _is_map(f):
        key, value = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
        k, v = _scalar(key), _value_type(value, name)
        container = "MessageMap" if value.message_type is not None else "_ScalarMap"
        return f"{container}[{k}, {v}]", True, f"{f.name}: Mapping[{k}, {v}] | None = ..."
    item = _value_type(f, name)
    if f.is_repeated:
        container = "_RepeatedComposite" if f.message_type is not None else "_RepeatedScalar"
        return f"{container}[{item}]", True, f"{f.name}: Iterable[{item}] | None = ..."
    if f.message_type is not None:
        return item, True, f"{f.name}: {item} | None = ..."
    return item, False, f"{f.name}: {item} = ..."


def _literal(names: list[str]) -> str:
    return "Literal[" + ", ".join(f'"{n}"' for n in names) + "]"


def _fields(d: Descriptor, name: Namer, body: str, todo: list[Descriptor]) -> Iterator[str]:
    params = ["self", "*"]
    for f in d.fields:
        if not f.name.isidentifier() or keyword.iskeyword(f.name):
            raise SystemExit(f"{f.full_name}: not usable as a Python attribute")
        if f.message_type is not None:
            todo.append(_top(f.message_type))
            if _is_map(f) and f.message_type.fields_by_name["value"].message_type is not None:
                todo.append(_top(f.message_type.fields_by_name["value"].message_type))
        annotation, read_only, param = _field(f, name)
        if read_only:
            yield f"{body}@property"
            yield f"{body}def {f.name}(self) -> {annotation}: ..."
        else:
            yield f"{body}{f.name}: {annotation}"
        params.append(param)
    if len(params) == 2:
        params.pop()  # a message without fields takes no keyword arguments
    yield f"{body}def __init__({', '.join(params)}) -> None: ..."


def _message(
    d: Descriptor, name: Namer, indent: str, todo: list[Descriptor], helpers: dict[str, list[str]]
) -> Iterator[str]:
    yield f"{indent}@final"  # upb message classes cannot be subclassed
    yield f"{indent}class {name(d).rsplit('.', 1)[-1]}(Message):"
    body = indent + "    "
    for nested in _nested(d):
        yield from _message(nested, name, body, todo, helpers)
    yield from _fields(d, name, body, todo)
    present = [f.name for f in d.fields if f.has_presence and not f.is_repeated]
    present += [o.name for o in d.oneofs]
    if present:
        yield f"{body}def HasField(self, field_name: {_literal(present)}) -> bool: ..."
    for oneof in d.oneofs:
        if len(d.oneofs) > 1:
            yield f"{body}@overload"
        members = _literal([f.name for f in oneof.fields])
        yield (
            f"{body}def WhichOneof(self, oneof_group: {_literal([oneof.name])})"
            f" -> {members} | None: ..."
        )
    for helper in helpers.get(d.full_name, []):
        yield body + helper


def _constants(pb: ModuleType) -> list[str]:
    lines = []
    for n, v in vars(pb).items():
        if n.startswith("_"):
            continue
        if type(v) is int:
            lines.append(f"{n}: int")
        elif type(v) is tuple and all(type(item) is str for item in v):
            lines.append(f"{n}: tuple[str, ...]")
    return lines


def render(target: Target) -> str:
    pb = target.pb
    exported: dict[str, Any] = {
        n: v
        for n, v in vars(pb).items()
        if isinstance(v, type) and issubclass(v, pb.Message) and v is not pb.Message
    }
    name = Namer(exported, target.package)
    first = f"# Generated by {target.script} from the installed\n# {target.library} descriptors"
    lines = [first + "; rerun it instead of editing this file.\n" + BASE]
    todo = [cls.DESCRIPTOR for cls in exported.values()]
    done: set[str] = set()
    while todo:
        d = todo.pop(0)
        if d.full_name not in done:
            done.add(d.full_name)
            lines += ["", *_message(d, name, "", todo, target.helpers)]
    lines += ["", *_constants(pb), ""]
    return _format("\n".join(lines), target.stub)


def _format(source: str, stub: Path) -> str:
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(stub), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def main(target: Target) -> int:
    parser = argparse.ArgumentParser(
        description=f"Write {target.stub.name} for {target.pb.__name__}"
    )
    parser.add_argument("--check", action="store_true", help="fail if the stub is out of date")
    args = parser.parse_args()
    text = render(target)
    if args.check:
        if not target.stub.exists() or target.stub.read_text() != text:
            print(f"{target.stub} is out of date; run {target.script}", file=sys.stderr)
            return 1
        return 0
    target.stub.write_text(text)
    return 0
