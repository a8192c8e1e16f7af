"""The botocore ``drs`` service model: routing, request parsing and server-side input validation.

botocore validates only required members, types and minimums on the client; the real service also
checks maximum lengths, patterns and enum values. This module checks all of them from the model
itself, so every operation's input is validated the same way.
"""

from __future__ import annotations

import functools
import json
import re
from urllib.parse import parse_qs
from urllib.parse import unquote

from botocore.loaders import Loader
from botocore.model import ServiceModel

from .errors import DRSError
from .errors import validation


@functools.lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    loader = Loader()
    return ServiceModel(loader.load_service_model("drs", "service-2"), service_name="drs")


@functools.lru_cache(maxsize=1)
def _routes() -> list[tuple[str, re.Pattern, list[str], str]]:
    routes = []
    model = service_model()
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?")[0]
        labels = re.findall(r"{([^}+]+)\+?}", uri)
        regex = "^" + re.sub(r"{[^}]+}", "([^?]+)", re.escape(uri).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        routes.append((http["method"].upper(), re.compile(regex), labels, name))
    return routes


def resolve(method: str, path: str) -> tuple[str, dict] | None:
    """Return (operation name, uri labels) for a request line, or None (unknown route)."""
    method = method.upper()
    for route_method, regex, labels, name in _routes():
        if route_method != method:
            continue
        match = regex.match(path)
        if match:
            return name, {label: unquote(value) for label, value in zip(labels, match.groups())}
    return None


def success_status(operation: str) -> int:
    return service_model().operation_model(operation).http.get("responseCode", 200)


def has_output(operation: str) -> bool:
    return service_model().operation_model(operation).output_shape is not None


def parse_request(operation: str, labels: dict, query_string: str, headers: dict, body: bytes) -> dict:
    """Build the operation's input dict from the URI, the query string, the headers and the JSON body."""
    op = service_model().operation_model(operation)
    shape = op.input_shape
    params: dict = {}
    if body and body.strip():
        try:
            params = json.loads(body)
        except ValueError as exc:
            raise validation(f"Could not parse request body: {exc}", reason="cannotParse") from None
        if not isinstance(params, dict):
            raise validation("Request body must be a JSON object", reason="cannotParse")
    if shape is None:
        return params
    query = parse_qs(query_string or "", keep_blank_values=True)
    lower_headers = {k.lower(): v for k, v in (headers or {}).items()}
    for member_name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", member_name)
        if location == "uri" and wire_name in labels:
            params[member_name] = labels[wire_name]
        elif location == "querystring" and wire_name in query:
            values = query[wire_name]
            if member.type_name == "list":
                params[member_name] = values
            elif member.type_name in ("integer", "long"):
                try:
                    params[member_name] = int(values[0])
                except ValueError:
                    raise _field(member_name, "must be an integer") from None
            else:
                params[member_name] = values[0]
        elif location == "header" and wire_name.lower() in lower_headers:
            params[member_name] = lower_headers[wire_name.lower()]
    return params


def _field(name: str, message: str) -> DRSError:
    return validation(f"1 validation error detected: Value at '{name}' failed to satisfy constraint: {message}",
                      [{"name": name, "message": message}])


def validate(operation: str, params: dict) -> None:
    """Raise ValidationException naming the first field that breaks the model's constraints."""
    shape = service_model().operation_model(operation).input_shape
    if shape is None:
        return
    _check(shape, params, "")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check(shape, value, path: str) -> None:
    type_name = shape.type_name
    meta = shape.metadata
    if type_name == "structure":
        if not isinstance(value, dict):
            raise _field(path or shape.name, "must be an object")
        for required in shape.required_members:
            if value.get(required) is None:
                raise _field(_join(path, required), "Member must not be null")
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None or item is None:
                continue
            _check(member, item, _join(path, key))
    elif type_name == "list":
        if not isinstance(value, list):
            raise _field(path, "must be a list")
        _bounds(len(value), meta, path, "Member must have length")
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]")
    elif type_name == "map":
        if not isinstance(value, dict):
            raise _field(path, "must be a map")
        _bounds(len(value), meta, path, "Member must have length")
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key")
            _check(shape.value, item, f"{path}[{key}]")
    elif type_name == "string":
        if not isinstance(value, str):
            raise _field(path, "must be a string")
        _bounds(len(value), meta, path, "Member must have length")
        if shape.enum and value not in shape.enum:
            raise _field(path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = meta.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            raise _field(path, f"Member must satisfy regular expression pattern: {pattern}")
    elif type_name in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _field(path, "must be an integer")
        _bounds(value, meta, path, "Member must have value")
    elif type_name == "boolean":
        if not isinstance(value, bool):
            raise _field(path, "must be a boolean")
    elif type_name in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _field(path, "must be a number")


def _bounds(size: int, meta: dict, path: str, what: str) -> None:
    low, high = meta.get("min"), meta.get("max")
    if low is not None and size < low:
        raise _field(path, f"{what} greater than or equal to {low}")
    if high is not None and size > high:
        raise _field(path, f"{what} less than or equal to {high}")
