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
    emulators.register("test-rds", "rds", lambda call: (200, {}, b"{}"), operations=["ModifyGlobalCluster"])
    assert emulators.find("rds", "ModifyGlobalCluster").name == "test-rds"
    assert emulators.find("rds", "DescribeDBClusters") is None
    with pytest.raises(ValueError, match="already emulated"):
        emulators.register("other", "rds", lambda call: None, operations=["ModifyGlobalCluster"])


def test_rds_emulates_the_global_database_operations_moto_lacks_and_leaves_the_rest_to_moto():
    emulators.load()
    for operation in ("SwitchoverGlobalCluster", "FailoverGlobalCluster", "DescribeGlobalClusters",
                      "PromoteReadReplica"):
        assert emulators.find("rds", operation).name == "rds"
    assert emulators.find("rds", "DescribeDBClusters") is None
