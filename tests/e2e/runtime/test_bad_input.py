"""Bad input: one clear line on stderr, exit 1, and nothing left behind."""

import json
import resource

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
    (lambda c: c["process"].update(rlimits=[{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]), 'unknown rlimit "RLIMIT_BOGUS"'),
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


def test_start_reports_why_the_process_could_not_start(runtime, bundle, container_id):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": hard + 1, "hard": hard + 1}]
    bundle.command("true").write()
    runtime("create", "--bundle", bundle.path, container_id, check=True)
    result = runtime("start", container_id)
    assert result.returncode == 1
    assert result.stderr.strip() == "berth-runtime: setrlimit RLIMIT_NOFILE: operation not permitted"


CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]


def test_capabilities_the_runtime_lacks_are_dropped_with_a_warning(runtime, bundle, container_id):
    bounding = int(next(l for l in open("/proc/self/status") if l.startswith("CapBnd:")).split()[1], 16)
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    missing = [cap for cap in range(last + 1) if not bounding & (1 << cap)]
    if not missing:
        pytest.skip("this machine's bounding set has every capability")
    name = CAPABILITIES[missing[0]]
    for cap_set in ("bounding", "effective", "permitted"):
        bundle.config["process"]["capabilities"][cap_set].append(name)
    bundle.command("true").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode == 0
    assert f"warning: {name} is not in the runtime's bounding set" in result.stderr
