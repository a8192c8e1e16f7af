"""Emulators the sandbox registers per service and operation, in front of moto.

moto answers most of what the collection calls. What it lacks (all of DRS; Aurora global switchover and failover,
ElastiCache global datastores, EFS replication ...) is answered by an emulator registered here. The server asks
:func:`find` for every request: an emulator registered for the request's service and operation answers it, anything
else falls through to moto. docs/adapters.md (section 6) and docs/sandbox.md explain how to add one.

An emulator module is any ``sandbox/emulators/<name>.py`` that calls :func:`register` when imported; :func:`load`
imports them all once, when the server starts, so adding one needs no change here or in the server.

A handler gets a :class:`Call` and returns ``(status, headers, body)`` — or ``None`` to let moto answer after all
(for example when it only corrects moto's answer for some inputs). Emulators that keep state in moto's own backends
(the usual case, so that moto's ``describe_*`` shows the change) need no reset of their own; those with state of their
own pass ``reset``; those with settings a test may change (how long a transition takes) pass ``configure``, which
the admin endpoint ``/_sandbox/emulators/<name>`` calls and which a reset puts back. ``tick`` runs before requests
of the services in ``tick_services``, so that time-driven transitions (a job that finished, a switchover that
completed) show even when nobody polls the emulated service.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass
from dataclasses import field
from typing import Callable

LOG = logging.getLogger("sandbox.emulators")

WHOLE_SERVICE = "*"


@dataclass
class Call:
    """One AWS request as an emulator sees it."""

    service: str
    operation: str | None
    method: str
    path: str
    query_string: str
    headers: dict
    body: bytes
    account: str
    region: str
    protocol: str | None = None
    environ: dict = field(default_factory=dict, repr=False)


@dataclass
class Emulator:
    name: str
    service: str
    handler: Callable[[Call], tuple | None]
    operations: frozenset = frozenset({WHOLE_SERVICE})
    # The service throttles itself (its own token bucket): the server forwards throttle settings instead.
    self_throttling: bool = False
    reset: Callable[[], None] | None = None
    tick: Callable[[], None] | None = None
    tick_services: frozenset = frozenset()
    configure: Callable[..., dict] | None = None


_REGISTRY: dict[tuple[str, str], Emulator] = {}
_EMULATORS: list[Emulator] = []
_LOADED = False


def register(name, service, handler, operations=None, self_throttling=False, reset=None, tick=None,
             tick_services=(), configure=None):
    """Answer ``operations`` of ``service`` (all of it when None) with ``handler``; returns the Emulator."""
    emulator = Emulator(name=name, service=service, handler=handler,
                        operations=frozenset(operations) if operations else frozenset({WHOLE_SERVICE}),
                        self_throttling=self_throttling, reset=reset, tick=tick,
                        tick_services=frozenset(tick_services), configure=configure)
    for operation in emulator.operations:
        key = (service, operation)
        if key in _REGISTRY and _REGISTRY[key].name != name:
            raise ValueError(f"{service} {operation} is already emulated by {_REGISTRY[key].name}")
        _REGISTRY[key] = emulator
    _EMULATORS.append(emulator)
    return emulator


def find(service, operation):
    """The emulator for this request, or None (moto answers)."""
    return _REGISTRY.get((service, operation or "")) or _REGISTRY.get((service, WHOLE_SERVICE))


def emulates_whole(service):
    return (service, WHOLE_SERVICE) in _REGISTRY


def registered():
    """``{service: [operations]}`` of everything emulated (the health endpoint shows it)."""
    result = {}
    for service, operation in sorted(_REGISTRY):
        result.setdefault(service, []).append(operation)
    return result


def get(name):
    return next((e for e in _EMULATORS if e.name == name), None)


def reset_all():
    for emulator in _EMULATORS:
        if emulator.reset:
            emulator.reset()


def tick_for(service):
    for emulator in _EMULATORS:
        if emulator.tick and service in emulator.tick_services:
            try:
                emulator.tick()
            except Exception:  # never let an emulator's clock break another service's call
                LOG.exception("emulator %s tick failed", emulator.name)


def load():
    """Import every emulator module of this package once (each registers itself)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except ImportError:  # an optional emulator whose dependencies are missing: moto answers instead
            LOG.exception("emulator module %s could not be loaded", info.name)
