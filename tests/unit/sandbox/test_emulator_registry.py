"""Emulators registered per service and operation, falling through to moto for the rest."""

import pytest

from sandbox import emulators


def test_drs_is_registered_for_its_whole_service_and_ec2_falls_through():
    emulators.load()
    assert emulators.find("drs", "StartRecovery").name == "drs"
    assert emulators.find("ec2", "DescribeInstances") is None


def test_an_operation_emulator_answers_only_its_operations(monkeypatch):
    monkeypatch.setattr(emulators, "_REGISTRY", dict(emulators._REGISTRY))
    monkeypatch.setattr(emulators, "_EMULATORS", list(emulators._EMULATORS))
    emulators.register("test-rds", "rds", lambda call: (200, {}, b"{}"), operations=["SwitchoverGlobalCluster"])
    assert emulators.find("rds", "SwitchoverGlobalCluster").name == "test-rds"
    assert emulators.find("rds", "DescribeDBClusters") is None
    with pytest.raises(ValueError, match="already emulated"):
        emulators.register("other", "rds", lambda call: None, operations=["SwitchoverGlobalCluster"])
