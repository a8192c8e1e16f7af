"""Helpers the application-tier emulators share (not an emulator itself: names starting with _ are not loaded).

- :func:`time_scale`: the sandbox's one time scale (the DRS emulator's ``time_scale`` setting, set with
  ``python -m sandbox faults`` / the estate's ``sandbox.drs.time_scale``), so every emulated transition speeds up or
  slows down together.
- :func:`query_params` and :func:`query_error` for query-protocol services (Auto Scaling).
- :func:`json_error` for rest-json / json services.
"""

from __future__ import annotations

import json
import random
from urllib.parse import parse_qs
from xml.sax.saxutils import escape


def time_scale() -> float:
    try:
        from sandbox.drs.backend import get_settings

        return float(get_settings().get("time_scale", 1.0))
    except ImportError:  # the DRS emulator is optional
        return 1.0


def seconds(value: float) -> float:
    """An emulated duration at the sandbox's time scale."""
    return value * time_scale()


def query_params(call) -> dict:
    text = call.body.decode("utf-8", "replace") if call.body else ""
    if not text and call.query_string:
        text = call.query_string
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}


def query_error(code: str, message: str, status: int = 400):
    request_id = f"sandbox-{random.getrandbits(48):012x}"
    xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}"
           f"</Code><Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return status, {"Content-Type": "text/xml"}, xml.encode()


def json_error(code: str, message: str, status: int = 400):
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code,
               "x-amzn-RequestId": f"sandbox-{random.getrandbits(48):012x}"}
    return status, headers, json.dumps({"__type": code, "message": message, "Message": message}).encode()
