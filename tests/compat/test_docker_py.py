"""docker-py (Debian's python3-docker) against berthd."""

import pytest

from berthtest import Daemon, mounts_under

docker = pytest.importorskip("docker")


@pytest.fixture
def client(tmp_path):
    d = Daemon(tmp_path).start()
    d.import_busybox()
    client = docker.DockerClient(base_url=d.host, version="1.43")
    yield client
    client.close()
    d.remove_all_containers()
    d.stop()
    assert mounts_under(d.data_root) == []


def test_containers_run_returns_the_output(client):
    assert client.containers.run("busybox", ["sh", "-c", "echo hello; echo err >&2"], remove=True) == b"hello\n"
    with pytest.raises(docker.errors.ContainerError) as failed:
        client.containers.run("busybox", ["sh", "-c", "exit 3"], remove=True)
    assert failed.value.exit_status == 3
    # docker-py pulls an image it does not find: from a registry that is not there, that fails.
    with pytest.raises(docker.errors.APIError):
        client.containers.run("127.0.0.1:9/nosuchimage", "true")
    assert client.containers.list(all=True) == []


def test_detached_container_list_logs_exec_stop_remove(client):
    container = client.containers.run("busybox", ["sh", "-c", "echo ready; trap 'exit 0' TERM; while true; do sleep 0.1; done"],
                                      detach=True, name="pyweb", labels={"app": "web"})
    assert [c.name for c in client.containers.list()] == ["pyweb"]
    assert [c.id for c in client.containers.list(filters={"label": "app=web"})] == [container.id]
    container.reload()
    assert container.status == "running" and container.attrs["State"]["Pid"] > 0
    import time
    deadline = time.monotonic() + 10
    while container.logs() != b"ready\n" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert container.logs() == b"ready\n"
    result = container.exec_run(["sh", "-c", "echo in exec; exit 4"])
    assert (result.exit_code, result.output) == (4, b"in exec\n")
    assert container.exec_run("cat /etc/hostname").output == container.id[:12].encode() + b"\n"
    container.stop(timeout=5)
    container.reload()
    assert (container.status, container.attrs["State"]["ExitCode"]) == ("exited", 0)
    assert container.wait()["StatusCode"] == 0
    container.remove()
    assert client.containers.list(all=True) == []
