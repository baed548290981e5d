"""skopeo and umoci read what `berth save` writes: the docker-archive and the
OCI layout in the same tar."""

import json
import os
import shutil
import subprocess
import tarfile

import pytest

from berthtest import Daemon, mounts_under

SKOPEO = shutil.which("skopeo")
UMOCI = shutil.which("umoci")


@pytest.fixture
def saved(tmp_path):
    daemon = Daemon(tmp_path / "berthd").start()
    try:
        daemon.import_busybox()
        image_id = daemon.berth("inspect", "-f", "{{.Id}}", "busybox", check=True).stdout.strip()
        daemon.berth("save", "-o", tmp_path / "busybox.tar", "busybox", check=True)
    finally:
        daemon.stop()
    assert mounts_under(daemon.data_root) == []
    return tmp_path / "busybox.tar", image_id


def skopeo(tmp_path, *args):
    # skopeo wants DOCKER_CONFIG/config.json to exist when DOCKER_CONFIG is set.
    (tmp_path / "docker-config").mkdir(exist_ok=True)
    (tmp_path / "docker-config" / "config.json").write_text("{}")
    env = dict(os.environ, DOCKER_CONFIG=str(tmp_path / "docker-config"))
    result = subprocess.run([SKOPEO, *map(str, args)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(SKOPEO is None, reason="skopeo is not installed (scripts/setup-compat installs it)")
def test_skopeo_inspects_the_docker_archive_and_the_oci_layout(saved, tmp_path):
    archive, image_id = saved
    docker = skopeo(tmp_path, "inspect", f"docker-archive:{archive}")
    oci = skopeo(tmp_path, "inspect", f"oci-archive:{archive}:latest")
    for info in (docker, oci):
        assert info["Os"] == "linux" and info["Architecture"] == "amd64"
        assert len(info["Layers"]) == 1
    config = skopeo(tmp_path, "inspect", "--config", f"docker-archive:{archive}")
    assert config["config"]["Cmd"] == ["sh"]
    with tarfile.open(archive) as t:
        assert t.extractfile("blobs/sha256/" + image_id[len("sha256:"):]) is not None


@pytest.mark.skipif(UMOCI is None, reason="umoci is not installed (scripts/setup-compat installs it)")
def test_umoci_reads_the_oci_layout(saved, tmp_path):
    archive, _ = saved
    layout = tmp_path / "layout"
    layout.mkdir()
    subprocess.run(["tar", "-C", layout, "-xf", archive], check=True)
    tags = subprocess.run([UMOCI, "ls", "--layout", layout], capture_output=True, text=True, check=True).stdout.split()
    assert tags == ["latest"]
    stat = subprocess.run([UMOCI, "stat", "--image", f"{layout}:latest", "--json"], capture_output=True, text=True, check=True)
    history = json.loads(stat.stdout)["history"]
    assert history[0]["comment"] == "Imported from -"
