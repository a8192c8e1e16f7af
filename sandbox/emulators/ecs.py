"""ECS services: running and pending counts that ramp, and deployments that complete (reference failover_apis.md
section 5, Appendix B.4).

moto 5.2.5 sets ``runningCount`` to the new ``desiredCount`` the instant ``UpdateService`` is called (a new service
stays at ``runningCount`` 0 forever) and never updates the PRIMARY deployment's counters, so ``services_stable``
passes at once. Here, before every ECS request, each service's tasks move from pending to running over
``TASK_START_SECONDS`` per task at the sandbox's time scale (scale-in drains over ``TASK_STOP_SECONDS``); the PRIMARY
deployment's ``desiredCount``/``runningCount``/``pendingCount`` follow, its ``rolloutState`` is ``IN_PROGRESS``
until the service converged and ``COMPLETED`` afterwards, and a steady-state event is added. The state lives in
moto's own Service objects, so moto's ``DescribeServices`` answers with it.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from datetime import timezone

from sandbox.emulators import register
from sandbox.emulators._common import seconds
from sandbox.locking import STATE_LOCK

TASK_START_SECONDS = 1.0
TASK_STOP_SECONDS = 0.5

# service ARN -> {"desired", "from", "since"}
_RAMPS: dict[str, dict] = {}


def _services():
    from moto.ecs.models import ecs_backends

    for account in list(ecs_backends):
        for backend in list(ecs_backends[account].values()):
            yield from list(backend.services.values())


def _running(ramp, now):
    elapsed = max(0.0, now - ramp["since"])
    start, desired = ramp["from"], ramp["desired"]
    if desired >= start:
        per_task = seconds(TASK_START_SECONDS) or 1e-9
        return min(desired, start + int(elapsed / per_task))
    per_task = seconds(TASK_STOP_SECONDS) or 1e-9
    return max(desired, start - int(elapsed / per_task))


def _apply(service, ramp, now):
    running = _running(ramp, now)
    desired = service.desired_count
    pending = max(0, desired - running)
    service.running_count = running
    service.pending_count = pending
    converged = running == desired and pending == 0
    for deployment in service.deployments or []:
        if deployment.get("status") != "PRIMARY":
            continue
        before = deployment.get("rolloutState")
        deployment.update(desiredCount=desired, runningCount=running, pendingCount=pending,
                          rolloutState="COMPLETED" if converged else "IN_PROGRESS",
                          rolloutStateReason=(f"ECS deployment {deployment['id']} completed." if converged
                                              else f"ECS deployment {deployment['id']} in progress."),
                          updatedAt=datetime.now(timezone.utc))
        if converged and before != "COMPLETED":
            service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": datetime.now(timezone.utc),
                                      "message": f"(service {service.name}) has reached a steady state."})


def tick():
    now = time.monotonic()
    with STATE_LOCK:
        live = set()
        for service in _services():
            arn = service.arn
            live.add(arn)
            ramp = _RAMPS.get(arn)
            if ramp is None:
                # First sight (a seeded service): its tasks start now, from none running.
                ramp = _RAMPS[arn] = {"desired": service.desired_count, "from": 0, "since": now}
            elif service.desired_count != ramp["desired"]:
                # UpdateService changed the desired count (moto already jumped runningCount): ramp from what ran.
                ramp.update(**{"from": _running(ramp, now), "desired": service.desired_count, "since": now})
            _apply(service, ramp, now)
        for arn in set(_RAMPS) - live:
            _RAMPS.pop(arn, None)


def _never(_call):
    return None  # moto answers every ECS call; tick() corrects the counts first


def reset():
    _RAMPS.clear()


# Registered for an operation nobody calls, only to own the ECS clock: every ECS request ticks it first.
register("ecs", "ecs", _never, operations={"SandboxTick"}, reset=reset, tick=tick, tick_services=("ecs",))
