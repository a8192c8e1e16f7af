"""A small loopback AWS endpoint for the DRS contract tests: SigV4 service ``drs`` goes to the DRS
emulator, everything else to moto's server application, both in this process (so the emulator's EC2
effects are visible through the EC2 API)."""

from __future__ import annotations

import re
import threading

import boto3
from botocore.config import Config
from werkzeug.serving import make_server

from sandbox import drs

_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


class _App:
    def __init__(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication
        from moto.moto_server.werkzeug_app import create_backend_app

        self.moto_app = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match and match.group(3) == "drs":
            from moto.core.utils import get_equivalent_url_in_aws_domain  # noqa: F401  (moto import side effects)
            from moto.iam.models import get_account_id_from

            account = get_account_id_from(match.group(1))
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
            status, out_headers, payload, _op = drs.handle(
                environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", ""),
                headers, body, account, match.group(2))
            start_response(f"{status} X", list(out_headers.items()))
            return [payload]
        drs.tick()
        return self.moto_app(environ, start_response)


class Harness:
    def __init__(self):
        self.server = make_server("127.0.0.1", 0, _App(), threaded=True)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def client(self, service: str, region: str = "us-west-2", retries: int = 0, mode: str = "standard", **creds):
        config = Config(retries={"max_attempts": retries, "mode": mode}, connect_timeout=5, read_timeout=30)
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint, config=config,
                            aws_access_key_id=creds.get("key", "testing"),
                            aws_secret_access_key=creds.get("secret", "testing"),
                            aws_session_token=creds.get("token"))

    def assume(self, account_id: str, region: str = "us-west-2"):
        """Credentials that moto maps to account_id (an assumed role in that account)."""
        sts = self.client("sts", region)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/EnterpriseDRWorkloadRole",
                                RoleSessionName="drs-contract")["Credentials"]
        return {"key": creds["AccessKeyId"], "secret": creds["SecretAccessKey"], "token": creds["SessionToken"]}

    def close(self):
        self.server.shutdown()
