"""berth-runtime run: the container's process, its isolation and its exit status."""

import json
import os
import subprocess

from berthtest import wait_for


def test_run_prints_output_and_returns_exit_code(runtime, bundle, container_id):
    bundle.command("sh", "-c", "echo hi; echo oops >&2; exit 3").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout == "hi\n"
    assert result.stderr == "oops\n"
    assert result.returncode == 3
    assert runtime.ids() == []


def run_and_kill(runtime, bundle, container_id, signal):
    run = subprocess.Popen([runtime.binary, "--root", runtime.root, "run", "--bundle", bundle.path, container_id])
    try:
        wait_for(lambda: container_id in runtime.ids() and runtime.state(container_id)["status"] == "running")
        runtime("kill", container_id, signal, check=True)
        return run.wait(timeout=10)
    finally:
        run.kill()
        run.wait()


def test_killed_by_sigkill_exits_137(runtime, bundle, container_id):
    bundle.command("sleep", "60").write()
    assert run_and_kill(runtime, bundle, container_id, "KILL") == 137


def test_killed_by_signal_n_exits_128_plus_n(runtime, bundle, container_id):
    # Without a pid namespace of its own the process is no namespace's init,
    # so a signal it has no handler for kills it.
    bundle.config["linux"]["namespaces"] = [ns for ns in bundle.config["linux"]["namespaces"] if ns["type"] != "pid"]
    bundle.command("sleep", "60").write()
    assert run_and_kill(runtime, bundle, container_id, "USR1") == 128 + 10


def test_init_ignores_signals_it_has_no_handler_for(runtime, bundle, container_id):
    bundle.command("sh", "-c", "kill -USR1 $$; echo still here").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert (result.returncode, result.stdout) == (0, "still here\n")


def test_process_is_pid_1(runtime, bundle, container_id):
    bundle.command("sh", "-c", "echo $$").write()
    assert runtime("run", "--bundle", bundle.path, container_id).stdout == "1\n"


def test_hostname_is_set(runtime, bundle, container_id):
    bundle.command("hostname").write()
    assert runtime("run", "--bundle", bundle.path, container_id).stdout == "berth-e2e\n"


def test_proc_is_the_containers_own(runtime, bundle, container_id):
    bundle.command("sh", "-c", "ls /proc | grep -E '^[0-9]+$'").write()
    pids = runtime("run", "--bundle", bundle.path, container_id).stdout.split()
    # The shell, ls and grep: nothing of the host's.
    assert "1" in pids
    assert len(pids) <= 3


def test_masked_paths_cannot_be_read(runtime, bundle, container_id):
    (bundle.rootfs / "etc" / "secret").write_text("top secret\n")
    (bundle.rootfs / "secrets").mkdir()
    (bundle.rootfs / "secrets" / "key").write_text("key\n")
    bundle.config["linux"]["maskedPaths"] += ["/etc/secret", "/secrets", "/does/not/exist"]
    bundle.command("sh", "-c", "cat /etc/secret; ls /secrets; echo done").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"


def test_readonly_paths_and_readonly_rootfs(runtime, bundle, container_id):
    bundle.command("sh", "-c", "touch /x; echo 1 > /proc/sys/kernel/hostname; touch /tmp/ok && echo tmp-writable").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert "touch: /x: Read-only file system" in result.stderr
    assert "Read-only file system" in result.stderr.splitlines()[1]
    assert result.stdout == "tmp-writable\n"


def test_env_cwd_and_user(runtime, bundle, container_id):
    bundle.config["process"]["env"] += ["GREETING=hello there"]
    bundle.config["process"]["cwd"] = "/work/dir"
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 7]}
    bundle.command("sh", "-c", 'echo "$GREETING"; pwd; id -u; id -g; id -G; echo $HOME').write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.splitlines() == ["hello there", "/work/dir", "1000", "1000", "1000 5 7", "/"], result.stderr


def test_rlimits_and_umask_and_oom_score(runtime, bundle, container_id):
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768}]
    bundle.config["process"]["user"]["umask"] = 0o077
    bundle.config["process"]["oomScoreAdj"] = 500
    bundle.command("sh", "-c", "ulimit -n; ulimit -Hn; umask; cat /proc/self/oom_score_adj").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.split() == ["512", "768", "0077", "500"], result.stderr


def test_capabilities_are_the_configured_sets(runtime, bundle, container_id):
    bundle.command("sh", "-c", "grep -E '^Cap(Eff|Prm|Bnd|Amb|Inh)' /proc/self/status").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    caps = dict(line.split(":\t") for line in result.stdout.splitlines())
    # CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
    want = f"{(1 << 5) | (1 << 10) | (1 << 29):016x}"
    assert caps == {"CapInh": "0" * 16, "CapPrm": want, "CapEff": want, "CapBnd": want, "CapAmb": "0" * 16}


def test_ambient_capabilities_survive_a_uid_change(runtime, bundle, container_id):
    caps = ["CAP_NET_BIND_SERVICE"]
    bundle.config["process"]["capabilities"] = {s: caps for s in ("bounding", "effective", "permitted", "inheritable", "ambient")}
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.command("sh", "-c", "grep -E '^Cap(Eff|Amb)' /proc/self/status").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.split() == ["CapEff:", f"{1 << 10:016x}", "CapAmb:", f"{1 << 10:016x}"], result.stderr


def test_mknod_fails_without_cap_mknod(runtime, bundle, container_id):
    bundle.command("mknod", "/tmp/null", "c", "1", "3").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode != 0
    assert "Operation not permitted" in result.stderr


def test_mknod_works_with_cap_mknod(runtime, bundle, container_id):
    for name in ("bounding", "effective", "permitted"):
        bundle.config["process"]["capabilities"][name].append("CAP_MKNOD")
    bundle.command("sh", "-c", "mknod /tmp/null c 1 3 && ls -l /tmp/null").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("crw")


def test_sysctl_and_network_namespace(runtime, bundle, container_id):
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    bundle.command("sh", "-c", "cat /proc/sys/net/ipv4/ip_forward; ls /sys/class/net").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.split() == ["1", "lo"], result.stderr


def test_default_devices_and_dev_links(runtime, bundle, container_id):
    bundle.command("sh", "-c", "ls /dev; echo x > /dev/null; head -c 4 /dev/zero | wc -c; readlink /dev/fd; readlink /dev/ptmx").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    listing = result.stdout.split()
    for dev in ("null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue", "fd", "stdin", "stdout", "stderr"):
        assert dev in listing, f"/dev/{dev} missing"
    assert listing[-3:] == ["4", "/proc/self/fd", "pts/ptmx"]


def test_extra_devices_from_config(runtime, bundle, container_id):
    bundle.config["linux"]["devices"] = [{"type": "c", "path": "/dev/mynull", "major": 1, "minor": 3, "fileMode": 0o600, "uid": 0, "gid": 0}]
    bundle.command("sh", "-c", "ls -l /dev/mynull; echo x > /dev/mynull && echo written").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.startswith("crw-------"), result.stderr
    assert result.stdout.endswith("written\n")


def test_device_cgroup_denies_unlisted_devices(runtime, bundle, container_id):
    for name in ("bounding", "effective", "permitted"):
        bundle.config["process"]["capabilities"][name].append("CAP_MKNOD")
    # /dev/kmsg (1:11) exists on the host but is neither a default device nor listed.
    bundle.command("sh", "-c", "mknod /tmp/kmsg c 1 11 && head -c 1 /tmp/kmsg").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode != 0
    assert "Operation not permitted" in result.stderr


def test_bind_mount_from_host(runtime, bundle, container_id, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello.txt").write_text("from the host\n")
    bundle.config["mounts"].append({"destination": "/mnt/shared", "type": "bind", "source": str(shared), "options": ["rbind", "ro"]})
    bundle.command("sh", "-c", "cat /mnt/shared/hello.txt; touch /mnt/shared/new").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout == "from the host\n"
    assert "Read-only file system" in result.stderr
    assert not (shared / "new").exists()


def test_symlink_in_rootfs_cannot_redirect_a_mount_outside(runtime, bundle, container_id, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), bundle.rootfs / "escape")
    bundle.config["mounts"].append({"destination": "/escape", "type": "tmpfs", "source": "tmpfs"})
    bundle.command("sh", "-c", "touch /escape/inside && echo ok").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout == "ok\n", result.stderr
    # The absolute symlink resolved inside the rootfs, never to the host path.
    assert list(outside.iterdir()) == []


def test_no_new_privileges(runtime, bundle, container_id):
    bundle.command("grep", "NoNewPrivs", "/proc/self/status").write()
    assert runtime("run", "--bundle", bundle.path, container_id).stdout.split() == ["NoNewPrivs:", "1"]
    bundle.config["process"]["noNewPrivileges"] = False
    bundle.write()
    assert runtime("run", "--bundle", bundle.path, container_id).stdout.split() == ["NoNewPrivs:", "0"]


def test_namespaces_joined_by_path(runtime, bundle, container_id, tmp_path):
    bundle.config["hostname"] = "first"
    bundle.command("sleep", "600").write()
    runtime("run", "--detach", "--bundle", bundle.path, container_id, check=True)
    first_pid = runtime.state(container_id)["pid"]

    second = dict(bundle.config)
    second["hostname"] = ""
    second["linux"] = dict(bundle.config["linux"], cgroupsPath=bundle.cgroup_path + "-second")
    second["linux"]["namespaces"] = [
        {"type": t, "path": f"/proc/{first_pid}/ns/{p}"} for t, p in (("network", "net"), ("ipc", "ipc"), ("uts", "uts"))
    ] + [{"type": "mount"}, {"type": "pid"}]
    second["process"] = dict(bundle.config["process"], args=["sh", "-c", "hostname; readlink /proc/self/ns/net"])
    (bundle.path / "config.json").write_text(json.dumps(second))
    result = runtime("run", "--bundle", bundle.path, container_id + "-2")
    hostname, netns = result.stdout.split()
    assert hostname == "first", result.stderr
    assert netns == os.readlink(f"/proc/{first_pid}/ns/net")
