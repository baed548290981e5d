"""A berthd per test, with its own data root and socket; stopped and
checked for leftover mounts at teardown."""

import pytest

from berthtest import Daemon, mounts_under


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path).start()
    yield d
    d.stop()
    assert mounts_under(d.data_root) == [], "mounts leaked under the data root"


@pytest.fixture
def busybox(daemon):
    daemon.import_busybox()
    return daemon
