"""Bad input: one clear line on stderr, exit 1, and nothing left behind."""

import json

import pytest

from berthtest import cgroup_dirs


def assert_clean_failure(result, runtime, bundle, message):
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert runtime.ids() == []
    assert cgroup_dirs(bundle.cgroup_path) == []


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["process"].update(args=[]), "process.args: must be a non-empty array"),
    (lambda c: c["process"].update(args="sh"), "process.args: must be an array"),
    (lambda c: c["process"].update(cwd="relative"), "process.cwd: must be an absolute path"),
    (lambda c: c["process"]["user"].update(uid=-1), "process.user.uid: must be an unsigned integer"),
    (lambda c: c.pop("root"), "root: is required"),
    (lambda c: c["mounts"].append({"type": "tmpfs"}), "mounts[8].destination: is required"),
    (lambda c: c["linux"]["namespaces"].append({"type": "bogus"}), 'linux.namespaces[6].type: unknown namespace type "bogus"'),
    (lambda c: c["linux"]["namespaces"].append({"type": "pid"}), 'duplicate namespace "pid"'),
    (lambda c: c["process"]["capabilities"]["bounding"].append("CAP_BOGUS"), 'unknown capability "CAP_BOGUS"'),
    (lambda c: c["linux"]["resources"].update(memory={"limit": "lots"}), "linux.resources.memory.limit: must be an integer"),
    (lambda c: c["linux"].update(sysctl={"vm.swappiness": "10"}), '"vm.swappiness" is not in a separate kernel namespace'),
    (lambda c: c["process"].update(args=["/no/such/binary"]), 'exec: "/no/such/binary": stat /no/such/binary: no such file or directory'),
    (lambda c: c["process"].update(args=["no-such-command"]), 'exec: "no-such-command": executable file not found in $PATH'),
    (lambda c: c["root"].update(path="missing-rootfs"), "rootfs: "),
    (lambda c: c["mounts"].append({"destination": "/x", "type": "bind", "source": "/no/such/dir", "options": ["bind"]}),
     "mount /no/such/dir on /x: no such file or directory"),
])
def test_invalid_config_is_rejected(runtime, bundle, container_id, mutate, message):
    mutate(bundle.config)
    bundle.write()
    assert_clean_failure(runtime("create", "--bundle", bundle.path, container_id), runtime, bundle, message)


def test_malformed_json(runtime, bundle, container_id):
    (bundle.path / "config.json").write_text('{"ociVersion": "1.0.2", "process": ')
    assert_clean_failure(runtime("create", "--bundle", bundle.path, container_id), runtime, bundle, "invalid JSON")


def test_unreadable_bundle(runtime, bundle, container_id, tmp_path):
    result = runtime("create", "--bundle", tmp_path / "nowhere", container_id)
    assert_clean_failure(result, runtime, bundle, "bundle")


def test_invalid_container_id(runtime, bundle):
    bundle.command("true").write()
    assert_clean_failure(runtime("create", "--bundle", bundle.path, "../escape"), runtime, bundle, "invalid container id")


def test_duplicate_id(runtime, bundle, container_id):
    bundle.command("sleep", "600").write()
    runtime("create", "--bundle", bundle.path, container_id, check=True)
    result = runtime("create", "--bundle", bundle.path, container_id)
    assert result.returncode == 1
    assert f'container with id "{container_id}" already exists' in result.stderr
    assert runtime.ids() == [container_id]
    assert runtime.state(container_id)["status"] == "created"


@pytest.mark.parametrize("command", [["start"], ["state"], ["kill"], ["delete"], ["pause"], ["resume"], ["exec", "--", "@", "true"], ["ps"]])
def test_unknown_id(runtime, command):
    args = [part if part != "@" else "no-such-container" for part in command]
    if "@" not in command:
        args.append("no-such-container")
    result = runtime(*args)
    assert result.returncode == 1
    assert 'container "no-such-container" does not exist' in result.stderr


def test_operations_in_the_wrong_state(runtime, bundle, container_id):
    bundle.command("sh", "-c", "exit 0").write()
    runtime("create", "--bundle", bundle.path, container_id, check=True)
    assert "is not running" in runtime("pause", container_id).stderr
    runtime("start", container_id, check=True)
    from berthtest import wait_for
    wait_for(lambda: runtime.state(container_id)["status"] == "stopped")
    assert "cannot start a container that is stopped" in runtime("start", container_id).stderr
    assert "is not running" in runtime("kill", container_id).stderr
    assert "cannot exec in a stopped container" in runtime("exec", container_id, "true").stderr
    runtime("delete", container_id, check=True)


def test_unknown_flag_and_signal(runtime, bundle, container_id):
    result = runtime("create", "--bogus", container_id)
    assert result.returncode == 1 and "--bogus" in result.stderr
    bundle.command("sleep", "600").write()
    runtime("create", "--bundle", bundle.path, container_id, check=True)
    result = runtime("kill", container_id, "SIGNOPE")
    assert result.returncode == 1 and 'invalid signal "SIGNOPE"' in result.stderr
