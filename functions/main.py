"""Cloud Function entry points: one thin function per deployed function (names = deployed names)."""

from __future__ import annotations

import flask
import functions_framework


@functions_framework.http
def health(request: flask.Request) -> flask.Response:
    return flask.jsonify({"status": "ok"})
