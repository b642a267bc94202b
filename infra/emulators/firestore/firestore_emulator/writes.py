"""Applying Write messages: preconditions, update masks, transforms, size limit.

`stage_writes` never touches the store: it computes the new versions for a whole Commit
so that either every write is installed or, on the first failure, none is.
"""

from collections.abc import Callable, Iterable, Sequence

from . import pb
from .errors import already_exists, failed_precondition, invalid, not_found
from .paths import check_document_name, parse_field_path
from .transforms import apply_transform, delete_field, set_field
from .values import (
    MAX_DOCUMENT_BYTES,
    document_size,
    get_field,
    reject_nested_arrays,
    timestamp_to_micros,
)

Reader = Callable[[str], pb.Document | None]


def write_name(w: pb.Write) -> str:
    kind = w.WhichOneof("operation")
    if kind == "update":
        return str(w.update.name)
    if kind == "delete":
        return str(w.delete)
    if kind == "transform":
        return str(w.transform.document)
    raise invalid("A write must set update, delete or transform.")


def check_write_names(writes: Iterable[pb.Write], root: str) -> list[str]:
    names = []
    for w in writes:
        name = write_name(w)
        check_document_name(name)
        if not name.startswith(root + "/"):
            raise invalid(f'Document "{name}" is not in database "{root}".')
        check_write_values(w)
        names.append(name)
    return names


def check_write_values(w: pb.Write) -> None:
    """Reject values production cannot store, before any lock is taken or document read."""
    reject_nested_arrays(w.update.fields.values())
    transforms = w.transform.field_transforms if w.HasField("transform") else w.update_transforms
    for ft in transforms:
        if ft.HasField("append_missing_elements"):
            # Google's emulator stores [[1]] from ArrayUnion([[1]]); production's documents
            # never hold a nested array, so the operand gets the same check as a set value.
            reject_nested_arrays(ft.append_missing_elements.values, in_array=True)


def stage_writes(
    writes: Sequence[pb.Write], read: Reader, commit_time: pb.Timestamp
) -> tuple[dict[str, pb.Document | None], list[pb.WriteResult]]:
    """Return ({name: new Document or None}, [WriteResult]) for the writes, in order."""
    staged: dict[str, pb.Document | None] = {}
    results = []
    for w in writes:
        name = write_name(w)
        current = staged[name] if name in staged else read(name)
        new, result = apply_write(name, current, w, commit_time)
        if new is not current:
            staged[name] = new
        results.append(result)
    return staged, results


def check_precondition(name: str, current: pb.Document | None, w: pb.Write) -> None:
    if not w.HasField("current_document"):
        return
    pc = w.current_document
    kind = pc.WhichOneof("condition_type")
    if kind == "exists":
        if pc.exists and current is None:
            raise not_found(f"No document to update: {name}")
        if not pc.exists and current is not None:
            raise already_exists(f"Document already exists: {name}")
    elif kind == "update_time":
        _check_update_time(name, current, timestamp_to_micros(pc.update_time))


def _check_update_time(name: str, current: pb.Document | None, want: int) -> None:
    # A missing document has stored version 0. A base version newer than the stored one
    # cannot come from a read, so production calls it a bad request, not a failed condition.
    stored = 0 if current is None else timestamp_to_micros(current.update_time)
    if current is not None and want > stored:
        raise invalid(f"Invalid base version, it is greater than the stored version: {name}")
    if current is None or want != stored:
        raise failed_precondition(
            f"the stored version ({stored}) does not match the required base version ({want})"
        )


def apply_write(
    name: str, current: pb.Document | None, w: pb.Write, commit_time: pb.Timestamp
) -> tuple[pb.Document | None, pb.WriteResult]:
    check_precondition(name, current, w)
    kind = w.WhichOneof("operation")
    if kind == "delete":
        return None, pb.WriteResult()
    new = pb.Document(name=name)
    if kind == "update":
        if w.HasField("update_mask"):
            _merge(new, current, w)
        else:
            new.fields.MergeFrom(w.update.fields)
        transforms = w.update_transforms
    else:
        if current is not None:
            new.fields.MergeFrom(current.fields)
        transforms = w.transform.field_transforms
    result = pb.WriteResult()
    for ft in transforms:
        path = parse_field_path(ft.field_path)
        result.transform_results.append(apply_transform(new.fields, path, ft, commit_time))
    if current is not None and new.fields == current.fields:
        result.update_time.CopyFrom(current.update_time)
        return current, result
    return _finish(new, current, commit_time, result)


def _merge(new: pb.Document, current: pb.Document | None, w: pb.Write) -> None:
    if current is not None:
        new.fields.MergeFrom(current.fields)
    for text in w.update_mask.field_paths:
        path = parse_field_path(text)
        value = get_field(w.update.fields, path)
        if value is None:
            delete_field(new.fields, path)
        else:
            set_field(new.fields, path, value)


def _finish(
    new: pb.Document,
    current: pb.Document | None,
    commit_time: pb.Timestamp,
    result: pb.WriteResult,
) -> tuple[pb.Document, pb.WriteResult]:
    size = document_size(new)
    if size > MAX_DOCUMENT_BYTES:
        raise invalid(
            f'Document "{new.name}" cannot be written because its size ({size:,} bytes) '
            f"exceeds the maximum allowed size of {MAX_DOCUMENT_BYTES:,} bytes."
        )
    new.create_time.CopyFrom(current.create_time if current is not None else commit_time)
    new.update_time.CopyFrom(commit_time)
    result.update_time.CopyFrom(commit_time)
    return new, result
