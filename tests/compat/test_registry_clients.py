"""berth's registry client against Debian's docker-registry (the
distribution project's registry 2.8), and the docker CLI and docker-py
pulling and pushing through berthd."""

import os
import shutil
import subprocess

import pytest

from berthtest import DistributionRegistry, Registry

HTPASSWD = "alice:$2b$04$xJES4B3IycTgnl.r9nqeK.MMEFyuuCVLE29lWYsCwis3qGIwtFgA2\n"  # alice:s3cret


def commit_layer(d, image, command):
    d.berth("run", "--name", "maker", "busybox", "sh", "-c", command, check=True)
    d.berth("commit", "maker", image, check=True)
    d.berth("rm", "maker", check=True)


@pytest.mark.skipif(shutil.which("docker-registry") is None, reason="Debian's docker-registry is not installed")
def test_push_and_pull_round_trip_with_distribution(daemon, tmp_path):
    registry = DistributionRegistry(tmp_path / "distribution").start()
    try:
        name = f"{registry.address}/round/trip:v1"
        commit_layer(daemon, name, "head -c 500000 /dev/urandom > /data")
        image_id = daemon.inspect(name, "{{.Id}}")
        pushed = daemon.berth("push", name, check=True).stdout
        digest = pushed.strip().splitlines()[-1].split("digest: ")[1].split()[0]
        daemon.berth("rmi", name, check=True)
        daemon.berth("pull", name, check=True)
        assert daemon.inspect(name, "{{.Id}}") == image_id
        daemon.berth("rmi", name, check=True)
        daemon.berth("pull", f"{registry.address}/round/trip@{digest}", check=True)
        assert daemon.inspect(f"{registry.address}/round/trip@{digest}", "{{.Id}}") == image_id
        # distribution offers cross-repository mounts: the second repository gets the layers without an upload.
        daemon.berth("tag", image_id, f"{registry.address}/other/repo:v1", check=True)
        mounted = daemon.berth("push", f"{registry.address}/other/repo:v1", check=True).stdout
        assert mounted.count("Mounted from round/trip") == 2, mounted
    finally:
        registry.stop()


DOCKER = shutil.which("docker")


def docker(daemon, *args, input=None):
    env = dict(os.environ, DOCKER_HOST=daemon.host)
    return subprocess.run([DOCKER, *map(str, args)], env=env, capture_output=True, text=True, input=input, timeout=60)


@pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")
def test_docker_cli_login_push_pull_through_berthd(daemon, tmp_path):
    (tmp_path / "htpasswd").write_text(HTPASSWD)
    registry = Registry(tmp_path / "registry", htpasswd=tmp_path / "htpasswd").start()
    try:
        name = f"{registry.address}/cli/app:v1"
        assert docker(daemon, "tag", "busybox", name).returncode == 0
        wrong = docker(daemon, "login", "-u", "alice", "--password-stdin", registry.address, input="bad\n")
        assert f"login attempt to http://{registry.address}/v2/ failed with status: 401 Unauthorized" in wrong.stderr
        ok = docker(daemon, "login", "-u", "alice", "--password-stdin", registry.address, input="s3cret\n")
        assert "Login Succeeded" in ok.stdout, ok.stderr
        pushed = docker(daemon, "push", name)
        assert pushed.returncode == 0, pushed.stderr
        assert f"The push refers to repository [{registry.address}/cli/app]" in pushed.stdout
        assert "v1: digest: sha256:" in pushed.stdout
        assert docker(daemon, "rmi", name).returncode == 0
        pulled = docker(daemon, "pull", name)
        assert pulled.returncode == 0, pulled.stderr
        assert f"Status: Downloaded newer image for {name}" in pulled.stdout
        assert pulled.stdout.strip().endswith(name)
        # berth reads the credentials docker stored.
        assert daemon.berth("push", name).returncode == 0
        assert docker(daemon, "logout", registry.address).stdout == f"Removing login credentials for {registry.address}\n"
    finally:
        registry.stop()


def test_docker_py_pull_and_push(daemon, tmp_path):
    docker_py = pytest.importorskip("docker")
    registry = Registry(tmp_path / "registry").start()
    client = docker_py.DockerClient(base_url=daemon.host, version="1.43")
    try:
        name = f"{registry.address}/py/app"
        client.images.get("busybox").tag(name, "v1")
        lines = list(client.images.push(name, tag="v1", stream=True, decode=True))
        assert any("aux" in line and line["aux"]["Tag"] == "v1" for line in lines), lines
        client.images.remove(f"{name}:v1")
        image = client.images.pull(name, tag="v1")
        assert image.id == client.images.get("busybox").id
        assert f"{name}:v1" in image.tags
    finally:
        client.close()
        registry.stop()
