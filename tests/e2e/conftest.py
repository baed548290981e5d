"""Fixtures for end-to-end tests: each test gets its own state root, bundle
and cgroup, and a check at teardown that nothing leaked."""

import json
import uuid

import pytest

from berthtest import Bundle, Runtime, cgroup_dirs, make_busybox_rootfs, mounts_under


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime(tmp_path / "state")
    yield rt
    # Whatever a test left, remove it; then fail if anything leaked.
    leftovers = rt.ids()
    for container_id in leftovers:
        rt("delete", "--force", container_id)
    assert rt.ids() == [], "containers left after delete --force"


@pytest.fixture
def bundle(tmp_path, runtime):
    """A busybox bundle with the default spec, a tmpfs /tmp, no terminal, and a
    cgroup path unique to the test so leaks can be found."""
    path = tmp_path / "bundle"
    make_busybox_rootfs(path / "rootfs")
    runtime("spec", "--bundle", path, check=True)
    config = json.loads((path / "config.json").read_text())
    config["process"]["terminal"] = False
    config["hostname"] = "berth-e2e"
    config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=1777"]})
    cgroup_path = f"/berth-e2e-{uuid.uuid4().hex[:12]}/ctr"
    config["linux"]["cgroupsPath"] = cgroup_path
    b = Bundle(path, config)
    b.cgroup_path = cgroup_path
    yield b
    for container_id in runtime.ids():
        runtime("delete", "--force", container_id)
    assert cgroup_dirs(cgroup_path) == [], "cgroup directories leaked"
    assert cgroup_dirs(cgroup_path.rsplit("/", 1)[0]) == [], "parent cgroup directories leaked"
    assert mounts_under(path) == [], "mounts leaked"


@pytest.fixture
def container_id():
    return "e2e-" + uuid.uuid4().hex[:10]
