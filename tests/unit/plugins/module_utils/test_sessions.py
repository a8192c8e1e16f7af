"""The collection's sessions share one botocore loader: a service model is parsed once per process."""

import boto3
import botocore.loaders

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients

KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret", "region_name": "us-east-1"}


def loader_of(session):
    return session._session.get_component("data_loader")  # pylint: disable=protected-access


def test_every_session_uses_the_one_loader_and_a_model_is_parsed_once(monkeypatch):
    parsed = []
    real = botocore.loaders.Loader.load_data_with_path

    def counting(self, name):
        parsed.append(name)
        return real(self, name)

    monkeypatch.setattr(botocore.loaders.Loader, "load_data_with_path", counting)
    monkeypatch.setattr(clients, "_SHARED_LOADER", None)
    first = clients.retrying_session(**KEYS)
    first.client("ec2")
    parsed_by_the_first = [name for name in parsed if name.endswith("service-2")]
    assert parsed_by_the_first == ["ec2/2016-11-15/service-2"]

    role = clients.assumed_role_session(first, "arn:aws:iam::210987654321:role/EnterpriseDRWorkloadRole", "x",
                                        region="us-west-2")
    second = clients.retrying_session(profile_name=None, **KEYS)
    for session in (role, second):
        assert loader_of(session) is loader_of(first) is clients.shared_loader()
        session.client("ec2")
    assert [name for name in parsed if name.endswith("service-2")] == parsed_by_the_first


def test_the_loader_search_paths_do_not_grow_with_sessions(monkeypatch):
    monkeypatch.setattr(clients, "_SHARED_LOADER", None)
    clients.retrying_session(**KEYS)
    paths = list(clients.shared_loader().search_paths)
    for _attempt in range(50):
        clients.retrying_session(**KEYS)
    assert clients.shared_loader().search_paths == paths
    assert len(paths) == len(set(paths))


def test_a_session_of_the_shared_loader_behaves_as_boto3s_own(monkeypatch):
    monkeypatch.setattr(clients, "_SHARED_LOADER", None)
    ours = clients.retrying_session(**KEYS).client("drs")
    theirs = boto3.session.Session(**KEYS).client("drs")
    assert ours.meta.service_model.operation_names == theirs.meta.service_model.operation_names
    assert ours.meta.region_name == theirs.meta.region_name == "us-east-1"


def test_the_loader_honours_aws_data_path(monkeypatch, tmp_path):
    monkeypatch.setattr(clients, "_SHARED_LOADER", None)
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    assert str(tmp_path) in clients.shared_loader().search_paths
