"""A berthd per test, with its own data root and socket. At teardown every
container is removed, and nothing may be left: no mount, no shim or
container process, no cgroup."""

import pytest

from berthtest import Daemon, cgroup_dirs, mounts_under, processes_mentioning, wait_for


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path).start()
    yield d
    ids = []
    if d.process and d.process.poll() is None:
        ids = d.remove_all_containers()
    d.stop()
    wait_for(lambda: processes_mentioning(str(d.data_root)) == [], timeout=10)
    assert mounts_under(d.data_root) == [], "mounts leaked under the data root"
    for container_id in ids:
        assert cgroup_dirs("/berth/" + container_id) == [], "cgroup leaked"


@pytest.fixture
def busybox(daemon):
    daemon.import_busybox()
    return daemon
