"""Base model for API bodies and the translation of pydantic errors into field errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from genmedia.errors import FieldError, InvalidArgument

# Enough to fix any honest request; a 64 KiB body of junk could otherwise yield thousands.
MAX_FIELD_ERRORS = 100


class ApiModel(BaseModel):
    """Base for request and response models.

    Unknown fields are rejected. Strictness is applied per call rather than in the config:
    ``Request.json`` validates in strict JSON mode (``"2"`` or ``true`` is not an int, yet ISO
    timestamps and enum values still parse from JSON strings), ``Request.query`` validates in
    lax mode because query values are always strings, and services can build response models
    from plain Python values.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)


def field_path(loc: tuple[int | str, ...], root: str) -> str:
    """Dotted JSON path for a pydantic error location: ``quota.images_per_day``, ``items[0]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or root


def _message(error_type: str, msg: str) -> str:
    if error_type == "extra_forbidden":
        return "Unknown field"
    return msg


def field_errors(exc: ValidationError, root: str = "body") -> list[FieldError]:
    """Every problem in ``exc`` as a FieldError; messages never echo the rejected input."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    return [
        FieldError(field_path(tuple(e["loc"]), root), _message(e["type"], e["msg"]))
        for e in errors[:MAX_FIELD_ERRORS]
    ]


def invalid_argument(exc: ValidationError, root: str = "body") -> InvalidArgument:
    errors = field_errors(exc, root)
    noun = "field" if len(errors) == 1 else "fields"
    return InvalidArgument(f"{len(errors)} invalid {noun}", errors=errors)
