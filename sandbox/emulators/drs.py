"""Registers the DRS emulator (``sandbox/drs``) for the whole ``drs`` service: moto has no DRS at all."""

from __future__ import annotations

from sandbox import drs
from sandbox.emulators import register


def _handle(call):
    headers = {key[5:].replace("_", "-").title(): value
               for key, value in call.environ.items() if key.startswith("HTTP_")}
    if call.environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = call.environ["CONTENT_TYPE"]
    status, out_headers, payload, operation = drs.handle(
        call.method, call.path, call.query_string, headers, call.body, call.account, call.region)
    call.operation = operation or call.operation
    return status, out_headers, payload


register("drs", "drs", _handle, self_throttling=True, reset=drs.reset, tick=drs.tick,
         # Recovery launches that are due must show in EC2 even when nobody polls DRS.
         tick_services=("ec2", "resourcegroupstaggingapi"))
