"""AWS Elastic Disaster Recovery (DRS) emulator for the local sandbox.

moto has no DRS, so the sandbox routes every SigV4 ``drs`` request to :func:`handle`. The wire format,
validation and errors follow botocore's ``drs`` model; recovery effects land in moto's in-process EC2
backends. See docs/sandbox_drs.md.

Interface used by the sandbox server:

- ``handle(method, path, query_string, headers, body, account_id, region)`` ->
  ``(status, headers, body, operation_name)``
- ``reset()``, ``configure(**settings)``, ``get_settings()``
- ``seed_source_server(account_id, region, spec)`` -> DescribeSourceServers item
- ``tick()``: apply due job steps now (call it before answering EC2 requests so that launches that are
  due show in EC2 even when nobody asks DRS).
"""

from __future__ import annotations

import json
import uuid

from . import backend
from . import model
from .backend import configure
from .backend import get_settings
from .backend import seed_source_server
from .errors import DRSError
from .errors import validation
from .operations import NO_INIT
from .operations import OPERATIONS

__all__ = ["handle", "reset", "configure", "get_settings", "seed_source_server", "tick", "jobs_snapshot"]


def reset() -> None:
    """Forget all DRS state (every account and region) and restore the default settings."""
    backend.reset()


def tick() -> None:
    """Apply every job step that is due (launches, terminations) without a DRS request."""
    backend.advance()


def jobs_snapshot(account_id: str, region: str) -> list[dict]:
    """DescribeJobs items of one account/region, newest first (for harness assertions and reports)."""
    with backend.LOCK:
        backend.advance()
        state = backend.REGIONS.get((account_id, region))
        if state is None:
            return []
        return [job.to_api() for job in sorted(state.jobs.values(), key=lambda j: j.created, reverse=True)]


def _response(status: int, payload: dict | None, extra: dict | None = None) -> tuple[int, dict, bytes]:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    body = b""
    if payload is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(payload).encode()
    headers.update(extra or {})
    return status, headers, body


def _error(exc: DRSError) -> tuple[int, dict, bytes]:
    return _response(exc.status, exc.body(), {"x-amzn-ErrorType": exc.code, **exc.headers})


def handle(method: str, path: str, query_string: str, headers: dict, body: bytes, account_id: str,
           region: str) -> tuple[int, dict, bytes, str]:
    """Answer one DRS REST-JSON request for the caller's account and region."""
    if "?" in path:
        path, _mark, extra_query = path.partition("?")
        query_string = query_string or extra_query
    route = model.resolve(method, path)
    if route is None:
        status, out_headers, out_body = _response(404, {"message": "Not Found"},
                                                  {"x-amzn-ErrorType": "UnknownOperationException"})
        return status, out_headers, out_body, "Unknown"
    operation, labels = route
    try:
        with backend.LOCK:
            ctx = backend.Context(account_id, region)
            backend.throttle(ctx.state)
            params = model.parse_request(operation, labels, query_string, headers, body or b"")
            model.validate(operation, params)
            if operation not in NO_INIT:
                ctx.require_initialized()
            handler = OPERATIONS.get(operation)
            if handler is None:
                raise validation(f"Operation {operation} is not supported by the sandbox DRS emulator.",
                                 reason="unknownOperation")
            backend.advance(ctx.now)
            result = handler(ctx, params)
    except DRSError as exc:
        status, out_headers, out_body = _error(exc)
        return status, out_headers, out_body, operation
    status = model.success_status(operation)
    if status == 204 or not model.has_output(operation):
        status, out_headers, out_body = _response(status, None)
    else:
        status, out_headers, out_body = _response(status, result)
    return status, out_headers, out_body, operation
