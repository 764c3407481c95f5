"""Fixtures for the `kerasrt serve` integration tests: a model repository made of the project's
Keras fixtures, servers started on free loopback ports (port 0; the ready line names them) and
always stopped, the kerasrt CLI as the oracle, and gRPC stubs generated from our .proto.

KERASRT_BUILD_DIR names the build (default: build/ of this checkout)."""
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "fixtures"
BUILD = pathlib.Path(os.environ.get("KERASRT_BUILD_DIR", ROOT / "build")).resolve()
CLI = BUILD / "kerasrt"
SEED = FIXTURES / "seed" / "seed_small_functional"
MIMO = FIXTURES / "models" / "multi_input_multi_output"
START_TIMEOUT_S = 60


def make_repository(root: pathlib.Path) -> pathlib.Path:
    """seed (versions 1 and 2: two different models of one signature), mimo (two inputs, two
    outputs, unversioned) and broken (not a model: reported and skipped)."""
    repo = root / "models"
    (repo / "seed" / "1").mkdir(parents=True)
    (repo / "seed" / "2").mkdir(parents=True)
    shutil.copy(SEED / "model.keras", repo / "seed" / "1" / "model.keras")
    shutil.copy(FIXTURES / "seed" / "seed_small_sequential" / "model.h5", repo / "seed" / "2" / "model.h5")
    (repo / "mimo").mkdir()
    shutil.copy(MIMO / "model.keras", repo / "mimo" / "model.keras")
    (repo / "broken").mkdir()
    (repo / "broken" / "model.keras").write_bytes(b"PK\x03\x04 not really a zip")
    return repo


class Server:
    """A running `kerasrt serve`; stop() is SIGTERM, then SIGKILL after a bounded wait."""

    def __init__(self, repo, log_dir, *args):
        self.log_path = pathlib.Path(log_dir) / f"serve_{time.monotonic_ns()}.log"
        self.stdout_lines = []
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(CLI), "serve", "--model-repository", str(repo), "--http-port", "0",
             "--grpc-port", "0", "--host", "127.0.0.1", *args],
            stdout=subprocess.PIPE, stderr=self.log, bufsize=0)  # unbuffered: select() sees every line
        deadline = time.monotonic() + START_TIMEOUT_S
        line = b""
        while b"ready;" not in line:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"kerasrt serve did not start: {self.stdout_lines} "
                                   f"{self.log_path.read_text()[-2000:]}")
            if select.select([self.proc.stdout], [], [], left)[0]:
                line = self.proc.stdout.readline()
                self.stdout_lines.append(line.decode())
        # "... HTTP on 127.0.0.1:PORT, gRPC on 127.0.0.1:PORT"
        text = line.decode()
        self.http_port = int(text.split("HTTP on ")[1].split(",")[0].rsplit(":", 1)[1])
        self.grpc_port = int(text.split("gRPC on ")[1].rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.http_port}"

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rest = self.proc.stdout.read().decode() if self.proc.stdout else ""
        self.stdout_lines.extend(rest.splitlines(keepends=True))
        self.log.close()
        return self.proc.returncode

    def access_log(self):
        return self.log_path.read_text()


@pytest.fixture(scope="session")
def repository(tmp_path_factory):
    return make_repository(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="session")
def start_server(repository, tmp_path_factory):
    """start_server(*args, repo=the test repository) -> Server, stopped at the end of the
    session at the latest."""
    servers = []
    log_dir = tmp_path_factory.mktemp("logs")

    def start(*args, repo=None):
        server = Server(repo or repository, log_dir, *args)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def server(start_server):
    """The shared server: small limits, so the limit tests stay cheap, and short time-outs."""
    return start_server("--max-body-bytes", str(1 << 20), "--max-tensor-elements", "100000",
                        "--read-timeout-s", "2", "--http-threads", "16")


def kerasrt_run(model_path, inputs, tmp_path):
    """The oracle: `kerasrt run` on the same model and inputs; returns its outputs."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    args = [str(CLI), "run", str(model_path)]
    for i, x in enumerate(inputs):
        p = tmp_path / f"in_{i}.npy"
        np.save(p, x)
        args += ["-i", str(p)]
    out = tmp_path / "out"
    subprocess.run(args + ["-o", str(out)], check=True, capture_output=True, timeout=120)
    outputs = []
    while (out / f"output_{len(outputs)}.npy").exists():
        outputs.append(np.load(out / f"output_{len(outputs)}.npy"))
    return outputs


@pytest.fixture(scope="session")
def grpc_stubs(tmp_path_factory):
    """Python messages and stubs generated from tools/serve/proto/grpc_service.proto with
    Debian's protoc and grpc_python_plugin."""
    out = tmp_path_factory.mktemp("stubs")
    proto_dir = ROOT / "tools" / "serve" / "proto"
    subprocess.run(["protoc", f"--proto_path={proto_dir}", f"--python_out={out}",
                    f"--grpc_python_out={out}",
                    f"--plugin=protoc-gen-grpc_python={shutil.which('grpc_python_plugin')}",
                    str(proto_dir / "grpc_service.proto")], check=True, timeout=60)
    sys.path.insert(0, str(out))
    import grpc_service_pb2
    import grpc_service_pb2_grpc
    return grpc_service_pb2, grpc_service_pb2_grpc
