"""The sandbox process: one loopback port that answers for every AWS service the collection uses.

Requests are routed by the SigV4 credential scope (service and region) in the Authorization header:
``drs`` goes to the DRS emulator (``sandbox.drs``), everything else to moto's server application,
running in this same process so the emulator can act on moto's EC2 backends directly.

Around both, the server keeps a request log (readable at ``/_sandbox/requests``) and injects faults
(latency, 5xx errors, throttling) per service. Admin endpoints live under ``/_sandbox/``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import random
import signal
import struct
import sys
import threading
import time
from datetime import datetime
from datetime import timezone
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from sandbox import emulators
from sandbox.iam_enforcement import Denial
from sandbox.iam_enforcement import Enforcement
from sandbox.iam_enforcement import error_code_for
from sandbox.locking import STATE_LOCK

emulators.load()
try:  # The DRS emulator's admin settings (time scale, faults of its own); optional like every emulator.
    from sandbox import drs as drs_emulator
except ImportError:  # pragma: no cover - depends on the tree being complete
    drs_emulator = None
if emulators.get("drs") is None:
    drs_emulator = None
drs_model = drs_emulator.model if drs_emulator is not None else None

LOG = logging.getLogger("sandbox.server")

ADMIN_PREFIX = "/_sandbox/"

# Credential-scope signing names that differ from the boto3 client name.
SIGNING_NAME_TO_CLIENT = {
    "tagging": "resourcegroupstaggingapi",
    "monitoring": "cloudwatch",
    "elasticfilesystem": "efs",
    "es": "opensearch",
    "memorydb": "memorydb",
    "email": "ses",
    "execute-api": "apigateway",
}

READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Search", "Query", "Scan", "BatchGet", "Lookup")
# Reads whose names do not start with a read prefix (TestDNSAnswer asks a name server; ElastiCache's TestFailover,
# by contrast, fails a node over and stays mutating).
READ_ONLY_OPERATIONS = {("sts", "GetCallerIdentity"), ("sts", "AssumeRole"), ("route53", "TestDNSAnswer")}

# Throttling error codes botocore's retry handler recognises, per protocol.
THROTTLE_CODES = {
    "ec2": ("RequestLimitExceeded", 503),
    "query": ("Throttling", 400),
    "json": ("ThrottlingException", 400),
    "rest-json": ("ThrottlingException", 429),
    "rest-xml": ("Throttling", 400),
    "smithy-rpc-v2-cbor": ("ThrottlingException", 400),
}
S3_THROTTLE = ("SlowDown", 503)

MAX_LOG_ENTRIES = 200_000


def is_mutating(service: str, operation: str | None, method: str) -> bool:
    """True unless the operation only reads state."""
    if not operation:
        return method.upper() not in ("GET", "HEAD", "OPTIONS")
    if (service, operation) in READ_ONLY_OPERATIONS:
        return False
    return not operation.startswith(READ_ONLY_PREFIXES)


def parse_authorization(header: str | None) -> dict:
    """Split a SigV4 Authorization header into access key, date, region and service."""
    result = {"access_key": None, "date": None, "region": None, "service": None}
    if not header or "Credential=" not in header:
        return result
    try:
        credential = header.split("Credential=", 1)[1].split(",", 1)[0].strip()
        access_key, date, region, service, _terminator = credential.split("/")
    except ValueError:
        return result
    result.update(access_key=access_key, date=date, region=region, service=service.lower())
    return result


def _cbor_text(value: str) -> bytes:
    data = value.encode("utf-8")
    length = len(data)
    if length < 24:
        return bytes([0x60 | length]) + data
    if length < 256:
        return bytes([0x78, length]) + data
    return bytes([0x79]) + struct.pack(">H", length) + data


def cbor_map(values: dict[str, str]) -> bytes:
    """Encode a small map of strings as CBOR (enough for an error document)."""
    out = bytes([0xA0 | len(values)])
    for key, value in values.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


class _ServiceModels:
    """botocore service metadata looked up lazily (protocol, client name)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._session = None
        self._models = {}

    def get(self, client_name: str):
        with self._lock:
            if client_name in self._models:
                return self._models[client_name]
            if self._session is None:
                import botocore.session

                self._session = botocore.session.get_session()
            try:
                model = self._session.get_service_model(client_name)
            except Exception:  # unknown service: routed anyway, logged without operation
                model = None
            self._models[client_name] = model
            return model


class FaultSettings:
    """Latency, 5xx and throttling per service ('*' applies to every service)."""

    KEYS = ("latency_ms", "error_rate", "throttle_rate", "throttle_next", "error_next")

    def __init__(self):
        self._lock = threading.Lock()
        self._rules: dict[str, dict] = {}
        self._random = random.Random()

    def clear(self):
        with self._lock:
            self._rules = {}

    def update(self, service: str, **values):
        unknown = set(values) - set(self.KEYS)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}; known: {', '.join(self.KEYS)}")
        with self._lock:
            rule = self._rules.setdefault(service or "*", {})
            for key, value in values.items():
                if value is None:
                    continue
                if key in ("throttle_rate", "error_rate"):
                    value = float(value)
                    if not 0.0 <= value <= 1.0:
                        raise ValueError(f"{key} must be between 0 and 1, got {value}")
                else:
                    value = int(value)
                    if value < 0:
                        raise ValueError(f"{key} must not be negative, got {value}")
                rule[key] = value

    def snapshot(self) -> dict:
        with self._lock:
            return json.loads(json.dumps(self._rules))

    def decide(self, service: str) -> tuple[float, str | None]:
        """Return (latency seconds, fault) where fault is None, 'throttle' or 'error'."""
        with self._lock:
            rules = [self._rules.get("*", {}), self._rules.get(service, {})]
            latency = max(rule.get("latency_ms", 0) for rule in rules) / 1000.0
            for rule in reversed(rules):
                if rule.get("throttle_next"):
                    rule["throttle_next"] -= 1
                    return latency, "throttle"
                if rule.get("error_next"):
                    rule["error_next"] -= 1
                    return latency, "error"
            throttle_rate = max(rule.get("throttle_rate", 0.0) for rule in rules)
            error_rate = max(rule.get("error_rate", 0.0) for rule in rules)
            roll = self._random.random()
            if roll < throttle_rate:
                return latency, "throttle"
            if roll < throttle_rate + error_rate:
                return latency, "error"
            return latency, None


class RequestLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._sequence = 0

    def add(self, entry: dict):
        with self._lock:
            self._sequence += 1
            entry["seq"] = self._sequence
            self._entries.append(entry)
            if len(self._entries) > MAX_LOG_ENTRIES:
                del self._entries[: len(self._entries) - MAX_LOG_ENTRIES]

    def clear(self):
        with self._lock:
            self._entries = []

    def query(self, service=None, since=0, mutating=None, account=None) -> list[dict]:
        with self._lock:
            entries = list(self._entries)
        result = []
        for entry in entries:
            if entry["seq"] <= since:
                continue
            if service and entry["service"] != service:
                continue
            if account and entry["account"] != account:
                continue
            if mutating is not None and entry["mutating"] != mutating:
                continue
            result.append(entry)
        return result


def _account_for_access_key(access_key: str | None) -> str:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import get_account_id_from

    if not access_key:
        return DEFAULT_ACCOUNT_ID
    return get_account_id_from(access_key)


class SandboxApp:
    """WSGI application: admin endpoints, DRS emulator, moto, request log and faults."""

    def __init__(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication
        from moto.moto_server.werkzeug_app import create_backend_app

        self.moto_app = DomainDispatcherApplication(create_backend_app)
        self.log = RequestLog()
        self.faults = FaultSettings()
        self.models = _ServiceModels()
        self.started = time.time()
        self.state_dir = None
        self.unhealthy = set()  # names whose /_sandbox/health/<name> answers 503
        self.iam = Enforcement()  # IAM at request time (sandbox.iam_enforcement), off until switched on

    # ----------------------------------------------------------------------------------- dispatch
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        if path.startswith(ADMIN_PREFIX) or path == "/_sandbox":
            return self._admin(environ, start_response, path)

        started = time.time()
        body = self._read_body(environ)
        scope = parse_authorization(environ.get("HTTP_AUTHORIZATION"))
        signing_name = scope["service"] or "unknown"
        service = SIGNING_NAME_TO_CLIENT.get(signing_name, signing_name)
        region = scope["region"] or "us-east-1"
        method = environ.get("REQUEST_METHOD", "GET")
        # Same precedence as moto: explicit account header, then the account owning the access key.
        account = environ.get("HTTP_X_MOTO_ACCOUNT_ID") or _account_for_access_key(scope["access_key"])
        model = self.models.get(service) if service != "unknown" else None
        protocol = self._wire_protocol(environ, service, model)
        operation = self._operation(environ, body, service, model, path)

        entry = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "service": service,
            "operation": operation,
            "account": account,
            "region": region,
            "method": method,
            "path": path,
            "status": None,
            "mutating": None,
        }
        if service == "sts" and operation == "AssumeRole":
            params = self._query_params(environ, body)
            entry["role_arn"] = params.get("RoleArn")
            entry["external_id"] = params.get("ExternalId")
            entry["role_session_name"] = params.get("RoleSessionName")

        try:
            self.iam.check(environ, body, service, operation, account, region, scope["access_key"])
        except Denial as denial:
            code, status = error_code_for(protocol, denial)
            status, headers, payload = self._error_body(protocol, service, code, denial.message, status)
            entry.update(status=status, mutating=is_mutating(service, operation, method), denied=denial.action,
                         duration_ms=round((time.time() - started) * 1000, 1))
            self.log.add(entry)
            start_response(f"{status} {_reason(status)}", list(headers.items()))
            return [payload]

        latency, fault = self.faults.decide(service)
        if latency:
            time.sleep(latency)

        emulator = emulators.find(service, operation)
        if fault == "throttle" and not (emulator and emulator.self_throttling):
            status, headers, payload = self._throttle_response(service, protocol)
        elif fault == "error":
            status, headers, payload = self._server_error_response(service, protocol)
        else:
            answer = None
            if emulator is not None:
                call = emulators.Call(service=service, operation=operation, method=method, path=path,
                                      query_string=environ.get("QUERY_STRING", ""), headers={}, body=body,
                                      account=account, region=region, protocol=protocol, environ=environ)
                answer = self._call_emulator(emulator, call)
                operation = call.operation
                entry["operation"] = operation
            if answer is None:
                emulators.tick_for(service)
                return self._call_moto(environ, start_response, entry, started, service, method)
            status, headers, payload = answer

        entry["status"] = status
        entry["mutating"] = is_mutating(service, operation, method)
        entry["duration_ms"] = round((time.time() - started) * 1000, 1)
        self.log.add(entry)
        start_response(f"{status} {_reason(status)}", list(headers.items()))
        return [payload]

    @staticmethod
    def _wire_protocol(environ, service, model) -> str | None:
        """The protocol this request speaks (botocore may pick any of a service's protocols)."""
        content_type = environ.get("CONTENT_TYPE", "").lower()
        if "cbor" in content_type or environ.get("HTTP_SMITHY_PROTOCOL"):
            return "smithy-rpc-v2-cbor"
        if environ.get("HTTP_X_AMZ_TARGET") or content_type.startswith("application/x-amz-json"):
            return "json"
        if content_type.startswith("application/x-www-form-urlencoded"):
            return "ec2" if service == "ec2" else "query"
        if model is None:
            return None
        if model.protocol in ("rest-json", "rest-xml", "ec2", "query"):
            return model.protocol
        return "json"

    @staticmethod
    def _read_body(environ) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = environ.get("wsgi.input")
        if stream is None:
            body = b""
        elif length > 0:
            body = stream.read(length)
        elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            body = stream.read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return body

    @staticmethod
    def _query_params(environ, body: bytes) -> dict:
        params = {}
        for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace") if body else ""):
            if not source or "=" not in source:
                continue
            for key, values in parse_qs(source, keep_blank_values=True).items():
                params.setdefault(key, values[0])
        return params

    def _operation(self, environ, body: bytes, service: str, model, path: str) -> str | None:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target.rsplit(".", 1)[-1]
        if "/operation/" in path and path.startswith("/service/"):  # smithy rpc-v2 (cbor)
            return path.rstrip("/").rsplit("/", 1)[-1]
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type.startswith("application/x-www-form-urlencoded") or "Action=" in environ.get(
            "QUERY_STRING", ""
        ):
            action = self._query_params(environ, body).get("Action")
            if action:
                return action
        if service == "drs":  # the emulator's own routes (the same the DRS emulator answers by)
            route = drs_model.resolve(environ.get("REQUEST_METHOD", "GET"), path) if drs_model else None
            return route[0] if route else None
        if model is None:
            return None
        if model.protocol in ("rest-json", "rest-xml"):
            return self._match_rest_operation(environ, body, model)
        return None

    @staticmethod
    def _match_rest_operation(environ, body: bytes, model) -> str | None:
        from moto.core.request import Request
        from moto.core.routing import get_service_router

        try:
            probe = dict(environ)
            probe["wsgi.input"] = io.BytesIO(body)
            operation, _params = get_service_router(model.service_name).match(Request(probe))
            return operation.name
        except Exception:  # no matching operation: logged without a name
            return None

    def _call_moto(self, environ, start_response, entry, started, service, method):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            with STATE_LOCK:  # moto is not thread-safe (see sandbox.locking)
                result = self.moto_app(environ, capture)
                chunks = list(result)
                if hasattr(result, "close"):
                    result.close()
        finally:
            entry["status"] = captured.get("status", 500)
            entry["mutating"] = is_mutating(service, entry["operation"], method)
            entry["duration_ms"] = round((time.time() - started) * 1000, 1)
            self.log.add(entry)
        return chunks

    @staticmethod
    def _call_emulator(emulator, call):
        """The emulator's answer as (status, headers, body bytes), or None when moto is to answer."""
        try:
            # A handler that touches moto's backends takes sandbox.locking.STATE_LOCK itself (moto is not thread-safe).
            answer = emulator.handler(call)
        except Exception as exc:  # an emulator bug must answer like a service error, not kill the thread
            LOG.exception("%s emulator failed on %s %s", emulator.name, call.method, call.path)
            payload = json.dumps({"message": f"{emulator.name} emulator error: {exc}"}).encode()
            headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "InternalServerException"}
            return 500, headers, payload
        if answer is None:
            return None
        status, out_headers, payload = answer
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        elif not isinstance(payload, (bytes, bytearray)):
            payload = json.dumps(payload).encode("utf-8")
        out_headers = dict(out_headers or {})
        out_headers.setdefault("Content-Type", "application/json")
        return int(status), out_headers, bytes(payload)

    # ------------------------------------------------------------------------------------- faults
    @staticmethod
    def _error_body(protocol, service, code, message, status):
        request_id = f"sandbox-{random.getrandbits(48):012x}"
        if protocol in ("json", "rest-json") or protocol is None:
            headers = {
                "Content-Type": "application/x-amz-json-1.1",
                "x-amzn-ErrorType": code,
                "x-amzn-RequestId": request_id,
            }
            return status, headers, json.dumps({"__type": code, "message": message}).encode()
        if protocol == "smithy-rpc-v2-cbor":
            headers = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor",
                       "x-amzn-RequestId": request_id}
            return status, headers, cbor_map({"__type": code, "message": message})
        message = escape(message)
        if protocol == "ec2":
            xml = (
                f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>"
                f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
            )
            return status, {"Content-Type": "text/xml"}, xml.encode()
        if service == "s3":
            xml = (
                f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>"
            )
            return status, {"Content-Type": "application/xml"}, xml.encode()
        xml = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return status, {"Content-Type": "text/xml"}, xml.encode()

    def _throttle_response(self, service, protocol):
        code, status = S3_THROTTLE if service == "s3" else THROTTLE_CODES.get(protocol, ("ThrottlingException", 400))
        return self._error_body(protocol, service, code, "Rate exceeded (sandbox fault injection)", status)

    def _server_error_response(self, service, protocol):
        code = "InternalError" if protocol in ("ec2", "query", "rest-xml") else "InternalServerException"
        return self._error_body(protocol, service, code, "Internal failure (sandbox fault injection)", 500)

    # -------------------------------------------------------------------------------------- admin
    def _admin(self, environ, start_response, path):
        method = environ.get("REQUEST_METHOD", "GET")
        route = path[len(ADMIN_PREFIX):].strip("/") if path.startswith(ADMIN_PREFIX) else ""
        body = self._read_body(environ)
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            return _json(start_response, 400, {"error": f"request body is not JSON: {exc}"})
        query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            with STATE_LOCK:  # reset, seeding and tagging touch moto state
                status, document = self._admin_route(method, route, payload, query)
        except ValueError as exc:
            status, document = 400, {"error": str(exc)}
        except Exception as exc:  # report, never crash the server thread
            LOG.exception("admin endpoint %s %s failed", method, path)
            status, document = 500, {"error": f"{type(exc).__name__}: {exc}"}
        return _json(start_response, status, document)

    def _admin_route(self, method, route, payload, query):
        if route.startswith("health/"):
            # Stand-in application health endpoints for dr:health-check-url
            # (estates write {sandbox}/_sandbox/health/<name>).
            name = route[len("health/"):].strip().lower()
            if method in ("PUT", "POST"):
                if payload.get("healthy", True):
                    self.unhealthy.discard(name)
                else:
                    self.unhealthy.add(name)
            healthy = name not in self.unhealthy
            return (200 if healthy else 503), {"name": name, "healthy": healthy}
        if route in ("", "health"):
            return 200, {
                "status": "ok",
                "pid": os.getpid(),
                "uptime_seconds": round(time.time() - self.started, 1),
                "drs": drs_emulator is not None,
                "emulated": emulators.registered(),
            }
        if route == "iam":
            # IAM enforced at request time (sandbox.iam_enforcement): {"enforce": true|false, "hub_account": "..."}.
            if method in ("PUT", "POST"):
                return 200, self.iam.configure(enforce=payload.get("enforce"), hub_account=payload.get("hub_account"))
            return 200, self.iam.document()
        if route == "reset" and method == "POST":
            self.reset()
            return 200, {"reset": True}
        if route == "requests":
            if method == "DELETE":
                self.log.clear()
                return 200, {"cleared": True}
            mutating = query.get("mutating")
            entries = self.log.query(
                service=query.get("service"),
                since=int(query.get("since", 0)),
                mutating=None if mutating is None else mutating.lower() == "true",
                account=query.get("account"),
            )
            return 200, {"count": len(entries), "requests": entries}
        if route == "faults":
            if method == "GET":
                return 200, self.fault_document()
            if method == "DELETE":
                self.clear_faults()
                return 200, self.fault_document()
            if method == "POST":
                self.apply_faults(payload)
                return 200, self.fault_document()
        if route == "ec2/tags" and method == "POST":
            # Bulk tagging for estate seeding: one call tags many instances with different tags each,
            # where the EC2 API would need one CreateTags call per distinct tag set.
            from moto.ec2.models import ec2_backends

            backend = ec2_backends[str(payload["account_id"])][payload["region"]]
            resources = payload.get("resources") or {}
            for resource_id, tags in resources.items():
                backend.create_tags([resource_id], {str(k): str(v) for k, v in tags.items()})
            return 200, {"tagged": len(resources)}
        if route.startswith("emulators/"):
            # An emulator's own settings, for example {"polls_per_transition": 30} for elasticache-global-datastores.
            emulator = emulators.get(route.split("/", 1)[1])
            if emulator is None or emulator.configure is None:
                return 404, {"error": f"no emulator with settings named {route.split('/', 1)[1]}"}
            try:
                with STATE_LOCK:
                    return 200, emulator.configure(**(payload if method in ("PUT", "POST") else {}))
            except (TypeError, ValueError) as e:
                return 400, {"error": str(e)}
        if route == "drs/settings":
            self._require_drs()
            if method == "POST":
                drs_emulator.configure(**payload)
            return 200, drs_emulator.get_settings()
        if route == "drs/source-servers" and method == "POST":
            self._require_drs()
            servers = payload.get("servers") if "servers" in payload else [payload]
            created = []
            for spec in servers:
                spec = dict(spec)
                account_id = spec.pop("account_id")
                region = spec.pop("region")
                created.append(drs_emulator.seed_source_server(account_id, region, spec))
            return 200, {"source_servers": created}
        return 404, {"error": f"no sandbox endpoint {method} {ADMIN_PREFIX}{route}"}

    @staticmethod
    def _require_drs():
        if drs_emulator is None:
            raise ValueError("the DRS emulator (sandbox/drs) is not available in this sandbox")

    def fault_document(self) -> dict:
        document = {"services": self.faults.snapshot()}
        if drs_emulator is not None:
            document["drs"] = drs_emulator.get_settings()
        return document

    def clear_faults(self):
        self.faults.clear()

    def apply_faults(self, payload: dict):
        """Apply a fault document.

        Accepted shapes (merged with the current settings):
        ``{"latency_ms": 50, "throttle_rate": 0.2}`` (every service),
        ``{"service": "ec2", "throttle_next": 3}``,
        ``{"services": {"ec2": {...}, "*": {...}}, "drs": {"time_scale": 0.01, ...}, "clear": true}``.
        """
        if not isinstance(payload, dict):
            raise ValueError("fault settings must be a mapping")
        payload = dict(payload)
        if payload.pop("clear", False):
            self.faults.clear()
        drs_settings = dict(payload.pop("drs", None) or {})
        per_service = payload.pop("services", None) or {}
        if not isinstance(per_service, dict):
            raise ValueError("faults.services must map a service name to its settings")
        service = payload.pop("service", None) or "*"
        flat = {key: payload.pop(key) for key in list(payload) if key in FaultSettings.KEYS}
        if payload:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(payload))}")
        rules = dict(per_service)
        if flat:
            rules.setdefault(service, {})
            rules[service] = {**rules[service], **flat}
        for name, values in rules.items():
            values = dict(values)
            if name == "drs" and "throttle_rate" in values:
                # DRS throttles itself (token bucket + rate): forward instead of answering for it.
                drs_settings["throttle_rate"] = values.pop("throttle_rate")
            self.faults.update(name, **values)
        if drs_settings:
            self._require_drs()
            drs_emulator.configure(**drs_settings)

    def reset(self):
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        emulators.reset_all()
        self.log.clear()
        self.faults.clear()
        self.unhealthy.clear()
        self.iam.reset()


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _json(start_response, status, document):
    payload = json.dumps(document, default=str).encode("utf-8")
    start_response(f"{status} {_reason(status)}", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(payload)))])
    return [payload]


def serve(host: str = "127.0.0.1", port: int = 0, state_dir: str | None = None, ready_file: str | None = None):
    """Run the sandbox until SIGTERM/SIGINT. Writes ``{"port", "pid", "endpoint"}`` to ready_file once bound."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    app = SandboxApp()
    app.state_dir = state_dir
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    bound_port = server.socket.getsockname()[1]
    endpoint = f"http://{host}:{bound_port}"
    if ready_file:
        temporary = f"{ready_file}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"port": bound_port, "pid": os.getpid(), "endpoint": endpoint, "host": host}, handle)
        os.replace(temporary, ready_file)

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    LOG.info("sandbox listening on %s (pid %s)", endpoint, os.getpid())
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sandbox.server",
                                     description="Run the AWS sandbox in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-dir")
    parser.add_argument("--ready-file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    code = serve(args.host, args.port, args.state_dir, args.ready_file)
    # All state is in memory; leave at once instead of waiting for idle keep-alive handler threads.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
