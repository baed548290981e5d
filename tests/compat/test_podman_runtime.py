"""podman using berth-runtime as its OCI runtime (podman --runtime PATH)."""

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from berthtest import BIN, make_busybox_rootfs

PODMAN = shutil.which("podman")
pytestmark = pytest.mark.skipif(PODMAN is None, reason="podman is not installed (scripts/setup-compat installs it)")

CONTAINERS_CONF = """
[containers]
# This machine's hard nofile limit is 20000; podman's default asks for more.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def remove_cgroup_tree(path: Path):
    if not path.is_dir():
        return
    for child in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        child.rmdir()
    path.rmdir()


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    home = tmp_path_factory.mktemp("podman")
    (home / "containers.conf").write_text(CONTAINERS_CONF)
    (home / "storage.conf").write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{home}/graph"\nrunroot = "{home}/run"\n')
    env = dict(os.environ, CONTAINERS_CONF=str(home / "containers.conf"), CONTAINERS_STORAGE_CONF=str(home / "storage.conf"))
    runtime = str(BIN / "berth-runtime")

    def run(*args, check=False, timeout=60):
        return subprocess.run([PODMAN, "--runtime", runtime, *args], env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=check)

    rootfs = home / "rootfs"
    make_busybox_rootfs(rootfs)
    with tarfile.open(home / "rootfs.tar", "w") as tar:
        tar.add(rootfs, arcname=".")
    run("import", "-q", str(home / "rootfs.tar"), "localhost/busybox:latest", check=True)
    yield run
    run("rm", "--all", "--force", "--time", "0")
    run("rmi", "--all", "--force")
    run("system", "reset", "--force")
    for line in reversed(Path("/proc/self/mountinfo").read_text().splitlines()):
        mount_point = line.split()[4]
        if mount_point.startswith(str(home)):
            subprocess.run(["umount", "-l", mount_point], check=False)
    # conmon's cgroup, which podman makes beside the containers'.
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        remove_cgroup_tree(hierarchy / "libpod_parent")
    shutil.rmtree(home, ignore_errors=True)


def test_run_true_prints_nothing(podman):
    result = podman("run", "--rm", "busybox", "true")
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_run_echo(podman):
    result = podman("run", "--rm", "busybox", "echo", "hi")
    assert (result.returncode, result.stdout) == (0, "hi\n"), result.stderr


def test_exit_code_comes_back(podman):
    assert podman("run", "--rm", "busybox", "sh", "-c", "exit 4").returncode == 4


def test_detached_exec_and_stop(podman):
    container_id = podman("run", "-d", "busybox", "sleep", "600", check=True).stdout.strip()
    try:
        result = podman("exec", container_id, "sh", "-c", "echo $$; cat /proc/1/cmdline")
        assert result.stdout.split("\n")[1:] == ["sleep\x00600\x00"], result.stderr
        status = podman("inspect", "--format", "{{.State.Status}}", container_id, check=True).stdout.strip()
        assert status == "running"
        podman("stop", "--time", "1", container_id, check=True)
        status = podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container_id, check=True).stdout.split()
        assert status == ["exited", "137"]
    finally:
        podman("rm", "--force", container_id)


def test_terminal(podman):
    result = podman("run", "--rm", "-t", "busybox", "tty")
    assert result.stdout.strip() == "/dev/pts/0", result.stderr


def test_podman_loads_what_berth_saves(podman, tmp_path):
    from berthtest import Daemon

    daemon = Daemon(tmp_path / "berthd").start()
    try:
        daemon.import_busybox("saved:latest")
        image_id = daemon.berth("inspect", "-f", "{{.Id}}", "saved", check=True).stdout.strip()
        daemon.berth("save", "-o", tmp_path / "saved.tar", "saved", check=True)
    finally:
        daemon.stop()
    loaded = podman("load", "-i", str(tmp_path / "saved.tar"))
    assert loaded.returncode == 0, loaded.stderr
    assert podman("image", "inspect", "-f", "{{.Id}}", "saved").stdout.strip() == image_id[len("sha256:"):]
    assert podman("run", "--rm", "saved", "echo", "loaded").stdout == "loaded\n"
