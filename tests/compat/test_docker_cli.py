"""The real docker CLI against berthd (DOCKER_HOST=unix://…): what Docker prints."""

import os
import shutil
import subprocess

import pytest

from berthtest import Daemon

DOCKER = shutil.which("docker")
pytestmark = pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")


def docker(daemon, *args, input=None):
    env = dict(os.environ, DOCKER_HOST=daemon.host, DOCKER_CONFIG=str(daemon.root / "docker-config"))
    return subprocess.run([DOCKER, *map(str, args)], env=env, capture_output=True, text=True, input=input, timeout=60)


def test_docker_version_talks_to_berthd(daemon):
    result = docker(daemon, "version")
    assert result.returncode == 0, result.stderr
    assert "Server: berth" in result.stdout
    assert "API version:      1.43 (minimum version 1.24)" in result.stdout


def test_docker_images_and_inspect(daemon):
    rows = docker(daemon, "images").stdout.splitlines()
    assert rows[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert rows[1].split()[:2] == ["busybox", "latest"]
    assert docker(daemon, "inspect", "-f", "{{.Config.Cmd}} {{.Os}}", "busybox").stdout == "[sh] linux\n"
    assert docker(daemon, "image", "inspect", "--format", "{{json .RepoTags}}", "busybox").stdout == '["busybox:latest"]\n'


def test_docker_tag_and_rmi(daemon):
    assert docker(daemon, "tag", "busybox", "localhost:5000/mine:v2").returncode == 0
    assert "localhost:5000/mine" in docker(daemon, "images").stdout
    result = docker(daemon, "rmi", "localhost:5000/mine:v2")
    assert result.stdout == "Untagged: localhost:5000/mine:v2\n", result.stderr
    missing = docker(daemon, "rmi", "nosuch")
    assert missing.returncode == 1
    assert "No such image: nosuch:latest" in missing.stderr


def test_docker_import_and_history(daemon, tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc" / "motd").write_text("hi\n")
    subprocess.run(["tar", "-C", rootfs, "-cf", tmp_path / "rootfs.tar", "."], check=True)
    result = docker(daemon, "import", "-c", "CMD [\"cat\", \"/etc/motd\"]", "-m", "from docker", tmp_path / "rootfs.tar", "motd:1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sha256:")
    assert docker(daemon, "inspect", "-f", "{{.Config.Cmd}}", "motd:1").stdout == "[cat /etc/motd]\n"
    history = docker(daemon, "history", "motd:1").stdout.splitlines()
    assert history[0].split()[:2] == ["IMAGE", "CREATED"]
    assert history[1].rstrip().endswith("from docker")


def test_docker_save_then_docker_load_into_another_berthd(daemon, tmp_path):
    image_id = docker(daemon, "inspect", "-f", "{{.Id}}", "busybox").stdout
    assert docker(daemon, "save", "-o", tmp_path / "bb.tar", "busybox").returncode == 0
    other = Daemon(tmp_path / "other").start()
    try:
        loaded = docker(other, "load", "-i", tmp_path / "bb.tar")
        assert loaded.stdout == "Loaded image: busybox:latest\n", loaded.stderr
        assert docker(other, "inspect", "-f", "{{.Id}}", "busybox").stdout == image_id
    finally:
        other.stop()


def test_docker_run_echo_and_exit_codes(daemon):
    result = docker(daemon, "run", "--rm", "busybox", "echo", "hi")
    assert (result.returncode, result.stdout) == (0, "hi\n"), result.stderr
    assert docker(daemon, "run", "--rm", "busybox", "sh", "-c", "exit 3").returncode == 3
    # What berthd does not do yet is refused, not ignored.
    refused = docker(daemon, "run", "--rm", "-v", "/tmp:/x", "busybox", "true")
    assert refused.returncode == 125 and "HostConfig.Binds is not supported yet" in refused.stderr
    hosts = docker(daemon, "run", "--rm", "--add-host", "db:10.0.0.5", "busybox", "tail", "-1", "/etc/hosts")
    assert hosts.stdout == "10.0.0.5\tdb\n", hosts.stderr
    assert docker(daemon, "ps", "-aq").stdout == ""


def test_docker_container_life(daemon):
    container_id = docker(daemon, "run", "-d", "--name", "web", "busybox", "sh", "-c", "echo started; sleep 1000").stdout.strip()
    assert len(container_id) == 64
    rows = docker(daemon, "ps").stdout.splitlines()
    assert rows[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert rows[1].startswith(container_id[:12]) and rows[1].endswith(" web") and "Up " in rows[1]
    subprocess_wait = __import__("berthtest").wait_for
    subprocess_wait(lambda: docker(daemon, "logs", "web").stdout == "started\n")
    result = docker(daemon, "exec", "web", "sh", "-c", "echo from exec; exit 2")
    assert (result.returncode, result.stdout) == (2, "from exec\n")
    pid = docker(daemon, "inspect", "-f", "{{.State.Pid}}", "web").stdout.strip()
    assert os.path.exists(f"/proc/{pid}")
    assert docker(daemon, "stop", "-t", "1", "web").stdout == "web\n"
    assert docker(daemon, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web").stdout == "exited 137\n"
    assert docker(daemon, "rm", "-f", "web").stdout == "web\n"
    assert docker(daemon, "ps", "-a", "-q").stdout == ""


def test_docker_update_and_init(daemon):
    docker(daemon, "run", "-d", "--name", "tuned", "-m", "32m", "--init", "busybox", "sleep", "1000")
    assert docker(daemon, "update", "-m", "48m", "--memory-swap", "96m", "--pids-limit", "40", "tuned").stdout == "tuned\n"
    limits = docker(daemon, "inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", "tuned").stdout
    assert limits == f"{48 << 20} 40\n"
    pid_one = docker(daemon, "exec", "tuned", "cat", "/proc/1/cmdline").stdout
    assert pid_one.split("\0")[:3] == ["/sbin/docker-init", "--", "sleep"]
    refused = docker(daemon, "update", "-m", "512m", "tuned")
    assert refused.returncode == 1 and "update the memoryswap at the same time" in refused.stderr
    assert docker(daemon, "rm", "-f", "tuned").returncode == 0


def test_docker_run_it_under_a_pty(daemon):
    from berthtest import Terminal
    env = dict(os.environ, DOCKER_HOST=daemon.host, DOCKER_CONFIG=str(daemon.root / "docker-config"))
    term = Terminal(["env", *[f"{k}={v}" for k, v in env.items() if k.startswith("DOCKER_")], DOCKER, "run", "-it", "--rm", "busybox", "sh"])
    term.expect(r"/ # ")
    term.type("echo $((40+2)); stty size\r")
    term.expect(r"42\r\n30 100\r\n")
    term.type("exit 6\r")
    assert term.wait() == 6


def test_docker_commit_diff_cp(daemon, tmp_path):
    assert docker(daemon, "run", "--name", "maker", "busybox", "sh", "-c", "echo committed > /file").returncode == 0
    assert docker(daemon, "diff", "maker").stdout == "A /file\n"
    result = docker(daemon, "commit", "-m", "msg", "-c", 'CMD ["cat", "/file"]', "maker", "made:1")
    assert result.stdout.startswith("sha256:"), result.stderr
    assert docker(daemon, "run", "--rm", "made:1").stdout == "committed\n"
    assert docker(daemon, "cp", "maker:/file", tmp_path / "copied").returncode == 0
    assert (tmp_path / "copied").read_text() == "committed\n"
    assert docker(daemon, "rm", "maker").stdout == "maker\n"
