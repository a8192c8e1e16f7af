"""EC2 Auto Scaling: what moto 5.2.5 gets wrong for a failover (reference failover_apis.md section 9, Appendix B.8).

- ``UpdateAutoScalingGroup`` / ``SetDesiredCapacity`` validate min <= desired <= max with the real service's
  ``ValidationError`` texts (moto accepts anything and launches past MaxSize); valid requests fall through to moto.
- A scale-out with the ``Launch`` process suspended launches nothing (moto ignores suspended processes): the request
  is accepted, the desired capacity stored, no instance added.
- New instances are ``Pending`` first and ``InService`` after ``PENDING_SECONDS`` at the sandbox's time scale (moto
  makes them InService at once), so a failover really waits for them. The state lives in moto's own
  ``InstanceState`` objects, so moto's ``DescribeAutoScalingGroups`` shows it.
"""

from __future__ import annotations

import time

from sandbox.emulators import register
from sandbox.emulators._common import query_error
from sandbox.emulators._common import query_params
from sandbox.emulators._common import seconds
from sandbox.locking import STATE_LOCK

PENDING_SECONDS = 3.0

# instance id -> monotonic time it becomes InService
_DUE: dict[str, float] = {}


def _backend(account, region):
    from moto.autoscaling.models import autoscaling_backends

    return autoscaling_backends[account][region]


def _int(params, key):
    value = params.get(key)
    return int(value) if value not in (None, "") else None


def _validate(call):
    params = query_params(call)
    name = params.get("AutoScalingGroupName")
    with STATE_LOCK:
        group = _backend(call.account, call.region).autoscaling_groups.get(name)
        if group is None:
            return None  # moto answers (its own not-found error)
        low = _int(params, "MinSize")
        high = _int(params, "MaxSize")
        desired = _int(params, "DesiredCapacity")
        suspended = set(getattr(group, "_suspended_processes", None) or [])
        current = len(group.instance_states)
    if call.operation == "SetDesiredCapacity":
        high_now, low_now = group.max_size, group.min_size
        if desired is not None and desired > high_now:
            return query_error("ValidationError", f"New SetDesiredCapacity value {desired} is above max value "
                                                  f"{high_now} for the AutoScalingGroup.")
        if desired is not None and desired < low_now:
            return query_error("ValidationError", f"New SetDesiredCapacity value {desired} is below min value "
                                                  f"{low_now} for the AutoScalingGroup.")
    else:
        low = group.min_size if low is None else low
        high = group.max_size if high is None else high
        if desired is not None and not low <= desired <= high:
            return query_error("ValidationError", f"Desired capacity:{desired} must be between the specified min "
                                                  f"size:{low} and max size:{high}")
        if desired is None and low > high:
            return query_error("ValidationError", f"Max bound, {high}, must be greater than or equal to min bound, "
                                                  f"{low}")
    if "Launch" in suspended and desired is not None and desired > current:
        with STATE_LOCK:
            group.desired_capacity = desired
            if call.operation != "SetDesiredCapacity":
                group.min_size = low
                group.max_size = high
        action = call.operation
        body = (f"<{action}Response xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\"><ResponseMetadata>"
                f"<RequestId>sandbox</RequestId></ResponseMetadata></{action}Response>")
        return 200, {"Content-Type": "text/xml"}, body.encode()
    return None


def tick():
    """New instances start Pending; due ones become InService (moto's describe shows both)."""
    from moto.autoscaling.models import autoscaling_backends

    now = time.monotonic()
    with STATE_LOCK:
        live = set()
        for account in list(autoscaling_backends):
            for backend in list(autoscaling_backends[account].values()):
                for group in list(backend.autoscaling_groups.values()):
                    for state in group.instance_states:
                        instance_id = state.instance.id
                        live.add(instance_id)
                        due = _DUE.get(instance_id)
                        if due is None:
                            if state.lifecycle_state == "InService":
                                _DUE[instance_id] = now + seconds(PENDING_SECONDS)
                                state.lifecycle_state = "Pending"
                            continue
                        if state.lifecycle_state == "Pending" and now >= due:
                            state.lifecycle_state = "InService"
        for instance_id in set(_DUE) - live:
            _DUE.pop(instance_id, None)


def reset():
    _DUE.clear()


register("autoscaling", "autoscaling", _validate, operations={"UpdateAutoScalingGroup", "SetDesiredCapacity"},
         reset=reset, tick=tick, tick_services=("autoscaling",))
