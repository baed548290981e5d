"""cgroup limits: set from linux.resources and enforced by the kernel."""

from berthtest import cgroup_dirs

MiB = 1024 * 1024


def controller_dir(bundle, controller):
    for d in cgroup_dirs(bundle.cgroup_path):
        if d.parent.parent.name == controller or (controller in d.parts[4].split(",")):
            return d
    raise AssertionError(f"no {controller} cgroup for {bundle.cgroup_path}")


def test_memory_limit_oom_kills_the_process(runtime, bundle, container_id):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 32 * MiB, "swap": 32 * MiB}
    # The shell holds the command substitution's 64 MB in memory.
    bundle.command("sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode == 137
    assert "survived" not in result.stdout


def test_memory_below_the_limit_is_fine(runtime, bundle, container_id):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 64 * MiB, "swap": 64 * MiB}
    bundle.command("sh", "-c", "x=$(head -c 8388608 /dev/zero | tr '\\0' a); echo survived").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert (result.returncode, result.stdout) == (0, "survived\n"), result.stderr


def test_pids_limit_stops_forks(runtime, bundle, container_id):
    bundle.config["linux"]["resources"]["pids"] = {"limit": 5}
    bundle.command("sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; echo forked").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert "can't fork" in result.stderr


def test_limits_are_written_to_the_cgroup(runtime, bundle, container_id):
    bundle.config["linux"]["resources"].update({
        "memory": {"limit": 100 * MiB, "reservation": 50 * MiB},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
        "pids": {"limit": 42},
    })
    bundle.command("sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us "
                   "/sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpuset/cpuset.cpus "
                   "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.split() == [str(100 * MiB), "50000", "512", "42", "0", str(50 * MiB)], result.stderr


def test_cgroup_mount_is_read_only_and_shows_the_containers_cgroup(runtime, bundle, container_id):
    bundle.command("sh", "-c", "cat /sys/fs/cgroup/pids/cgroup.procs; mkdir /sys/fs/cgroup/pids/x").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.split()[0] == "1"
    assert "Read-only file system" in result.stderr


def test_update_changes_the_limits_of_a_running_container(runtime, bundle, container_id):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 32 * MiB, "swap": 32 * MiB}
    bundle.command("sleep", "600").write()
    runtime("run", "--detach", "--bundle", bundle.path, container_id, check=True)
    # Both grow: the swap limit has to be raised before the memory limit.
    runtime("update", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "9", container_id, check=True)
    memory = controller_dir(bundle, "memory")
    assert (memory / "memory.limit_in_bytes").read_text().strip() == str(64 * MiB)
    assert (memory / "memory.memsw.limit_in_bytes").read_text().strip() == str(128 * MiB)
    assert (controller_dir(bundle, "pids") / "pids.max").read_text().strip() == "9"
    # A resources document, as runc takes it; bad input changes nothing.
    resources = bundle.path / "resources.json"
    resources.write_text('{"pids": {"limit": "many"}}')
    result = runtime("update", "--resources", resources, container_id)
    assert result.returncode == 1 and "pids.limit" in result.stderr
    resources.write_text('{"pids": {"limit": 0}}')
    runtime("update", "--resources", resources, container_id, check=True)
    assert (controller_dir(bundle, "pids") / "pids.max").read_text().strip() == "max"
    assert "nothing to change" in runtime("update", container_id).stderr
