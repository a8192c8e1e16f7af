"""The Lambda emulator in process (moto backends, no server): provisioned concurrency states, Invoke, alias checks,
version numbering and event source mapping transitions (reference Appendix B item 5)."""

import base64
import io
import json
import time
import zipfile

import pytest

from sandbox import emulators
from sandbox.emulators import Call

emulators.load()
from sandbox.emulators import lambda_ as lam  # noqa: E402

A = "210987654321"
E1 = "us-east-1"


@pytest.fixture(autouse=True)
def fresh_moto(monkeypatch):
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    lam.reset()
    monkeypatch.setattr(lam, "ALLOCATE_SECONDS", 0.2)
    monkeypatch.setattr(lam, "ESM_SECONDS", 0.2)
    monkeypatch.setattr(lam._clock, "time_scale", lambda: 1.0)
    yield
    moto_api_backend.reset()


def _zip(release):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", f"def handler(e, c):\n    return {release!r}\n")
    return buffer.getvalue()


def backend():
    from moto.awslambda.models import lambda_backends

    return lambda_backends[A][E1]


def function(name="orders", reserved=None):
    from moto.iam.models import iam_backends

    role = iam_backends[A]["global"].create_role(
        role_name=f"{name}-role", assume_role_policy_document="{}", path="/", permissions_boundary=None,
        description="", tags=[], max_session_duration=3600)
    code = {"ZipFile": base64.b64encode(_zip("1")).decode()}
    fn = backend().create_function({"FunctionName": name, "Runtime": "python3.11", "Role": role.arn,
                                    "Handler": "handler.handler", "Code": code, "Publish": True})
    backend().create_alias(name="live", function_name=name, function_version="1", description="",
                           routing_config=None)
    if reserved is not None:
        backend().put_function_concurrency(name, reserved)
    return fn


def call(operation, method, path, body=None, query=""):
    return lam._handle(Call(service="lambda", operation=operation, method=method, path=path, query_string=query,
                            headers={}, body=json.dumps(body).encode() if body is not None else b"", account=A,
                            region=E1, environ={}))


def pc(operation, method="GET", body=None, qualifier="live", name="orders"):
    query = f"Qualifier={qualifier}" if qualifier else "List=ALL"
    status, _headers, payload = call(operation, method, f"/2019-09-30/functions/{name}/provisioned-concurrency",
                                     body, query)
    if isinstance(payload, dict):
        return status, payload
    return status, json.loads(payload) if payload else {}


def test_provisioned_concurrency_in_progress_then_ready_and_again_when_the_alias_moves(monkeypatch):
    function()
    status, answer = pc("PutProvisionedConcurrencyConfig", "PUT", {"ProvisionedConcurrentExecutions": 5})
    assert status == 202 and answer["Status"] == "IN_PROGRESS"
    assert answer["AllocatedProvisionedConcurrentExecutions"] == 0
    time.sleep(0.3)
    status, answer = pc("GetProvisionedConcurrencyConfig")
    assert answer["Status"] == "READY" and answer["AvailableProvisionedConcurrentExecutions"] == 5
    monkeypatch.setattr(lam, "ALLOCATE_SECONDS", 60.0)  # the reallocation must still be under way when read
    fn = backend().get_function("orders")
    fn.code_or_config_updated = True
    version = backend().publish_version("orders")
    backend().update_alias(name="live", function_name="orders", function_version=str(version.version),
                           description=None, routing_config=None)
    assert pc("GetProvisionedConcurrencyConfig")[1]["Status"] == "IN_PROGRESS"  # allocated again for the new version
    status, listed = pc("ListProvisionedConcurrencyConfigs", qualifier=None)
    assert listed["ProvisionedConcurrencyConfigs"][0]["FunctionArn"].endswith(":orders:live")
    assert pc("DeleteProvisionedConcurrencyConfig", "DELETE")[0] == 204
    status, error = pc("GetProvisionedConcurrencyConfig")
    assert status == 404 and error["__type"] == "ProvisionedConcurrencyConfigNotFoundException"


def test_provisioned_concurrency_is_refused_on_latest_and_beyond_reserved():
    function(reserved=3)
    status, error = pc("PutProvisionedConcurrencyConfig", "PUT", {"ProvisionedConcurrentExecutions": 1},
                       qualifier="$LATEST")
    assert status == 400 and "unpublished" in error["message"]
    status, error = pc("PutProvisionedConcurrencyConfig", "PUT", {"ProvisionedConcurrentExecutions": 5})
    assert status == 400 and "reserved concurrency (3)" in error["message"]


def test_invoke_answers_without_docker_and_reserved_zero_throttles():
    function()
    status, headers, payload = call("Invoke", "POST", "/2015-03-31/functions/orders/invocations", {"ping": 1},
                                    "Qualifier=live")
    assert status == 200 and headers["X-Amz-Executed-Version"] == "1"
    assert json.loads(payload) == {"statusCode": 200, "function": "orders", "version": "1", "region": E1,
                                   "sandbox": True, "event_keys": ["ping"]}
    backend().put_function_concurrency("orders", 0)
    status, _headers, payload = call("Invoke", "POST", "/2015-03-31/functions/orders/invocations", {}, "")
    assert status == 429 and json.loads(payload)["__type"] == "TooManyRequestsException"


def test_alias_revision_and_weights_are_checked_and_versions_never_reuse_a_number():
    function()
    alias = backend().get_alias("live", "orders")
    status, _h, payload = call("UpdateAlias", "PUT", "/2015-03-31/functions/orders/aliases/live",
                               {"FunctionVersion": "1", "RevisionId": "stale"})
    assert status == 412 and json.loads(payload)["__type"] == "PreconditionFailedException"
    status, _h, payload = call("UpdateAlias", "PUT", "/2015-03-31/functions/orders/aliases/live",
                               {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"9": 0.5}}})
    assert status == 400 and "does not exist" in json.loads(payload)["message"]
    assert call("UpdateAlias", "PUT", "/2015-03-31/functions/orders/aliases/live",
                {"FunctionVersion": "1", "RevisionId": alias.revision_id}) is None  # moto applies it
    before = alias.revision_id
    backend().update_alias(name="live", function_name="orders", function_version="1", description=None,
                           routing_config=None)
    assert alias.revision_id != before
    fn = backend().get_function("orders")
    fn.code_or_config_updated = True
    assert str(backend().publish_version("orders").version) == "2"
    backend().delete_function("orders", "1")
    fn.code_or_config_updated = True
    assert str(backend().publish_version("orders").version) == "3"  # moto alone would reuse 2
    assert str(backend().publish_version("orders").version) == "3"  # nothing changed: the newest version


def test_reserved_zero_is_reported_by_get_function():
    function(reserved=0)
    assert backend().get_function("orders").get_code()["Concurrency"] == {"ReservedConcurrentExecutions": 0}
