"""What the compat tests share: berthd with busybox imported, checked for
leftover mounts when it stops."""

import pytest

from berthtest import Daemon, mounts_under


@pytest.fixture
def daemon(tmp_path, monkeypatch):
    # Logins of the test go to a config.json of its own, never root's.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    d = Daemon(tmp_path).start()
    d.import_busybox()
    yield d
    d.remove_all_containers()
    d.stop()
    assert mounts_under(d.data_root) == []
