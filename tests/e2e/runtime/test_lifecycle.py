"""create, start, state, exec, pause/resume, ps, list, kill and delete."""

import json
import os
from pathlib import Path

from berthtest import cgroup_dirs, mounts_under, wait_for


def create_and_start(runtime, bundle, container_id, *command):
    bundle.command(*command).write()
    runtime("create", "--bundle", bundle.path, "--pid-file", bundle.path / "pid", container_id, check=True)
    runtime("start", container_id, check=True)
    return runtime.state(container_id)


def test_create_waits_for_start(runtime, bundle, container_id, tmp_path):
    marker = tmp_path / "marker"
    bundle.config["mounts"].append({"destination": "/out", "type": "bind", "source": str(tmp_path), "options": ["rbind"]})
    bundle.command("sh", "-c", "echo ran > /out/marker; sleep 60").write()
    runtime("create", "--bundle", bundle.path, "--pid-file", tmp_path / "pid", container_id, check=True)
    state = runtime.state(container_id)
    assert state["status"] == "created"
    assert state["id"] == container_id
    assert state["bundle"] == str(bundle.path)
    assert state["pid"] == int((tmp_path / "pid").read_text())
    assert not marker.exists()
    runtime("start", container_id, check=True)
    wait_for(marker.exists)
    assert runtime.state(container_id)["status"] == "running"
    assert "cannot start a container that is running" in runtime("start", container_id).stderr


def test_kill_and_delete_leave_nothing_behind(runtime, bundle, container_id):
    state = create_and_start(runtime, bundle, container_id, "sleep", "600")
    pid = state["pid"]
    assert Path(f"/proc/{pid}").exists()
    assert cgroup_dirs(bundle.cgroup_path), "the container has cgroups while it runs"
    assert str(pid) in (cgroup_dirs(bundle.cgroup_path)[0] / "cgroup.procs").read_text().split()

    runtime("kill", container_id, "KILL", check=True)
    wait_for(lambda: runtime.state(container_id)["status"] == "stopped")
    runtime("delete", container_id, check=True)

    wait_for(lambda: not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3])
    assert cgroup_dirs(bundle.cgroup_path) == []
    assert cgroup_dirs(bundle.cgroup_path.rsplit("/", 1)[0]) == []
    assert mounts_under(bundle.path) == []
    assert runtime.ids() == []
    assert "does not exist" in runtime("state", container_id).stderr


def test_delete_refuses_a_running_container_unless_forced(runtime, bundle, container_id):
    pid = create_and_start(runtime, bundle, container_id, "sleep", "600")["pid"]
    result = runtime("delete", container_id)
    assert result.returncode == 1
    assert result.stderr.strip().endswith("that is not stopped: running")
    runtime("delete", "--force", container_id, check=True)
    wait_for(lambda: not Path(f"/proc/{pid}/cmdline").exists() or Path(f"/proc/{pid}/cmdline").read_text() == "")
    assert runtime.ids() == []


def test_delete_force_of_a_created_container(runtime, bundle, container_id):
    bundle.command("sleep", "600").write()
    runtime("create", "--bundle", bundle.path, container_id, check=True)
    runtime("delete", "--force", container_id, check=True)
    assert runtime.ids() == []


def test_exec_runs_in_the_containers_namespaces(runtime, bundle, container_id):
    create_and_start(runtime, bundle, container_id, "sleep", "600")
    result = runtime("exec", container_id, "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; exit 7")
    assert result.returncode == 7
    assert result.stdout.splitlines() == ["berth-e2e", "sleep 600 "]


def test_exec_with_env_cwd_and_user(runtime, bundle, container_id):
    create_and_start(runtime, bundle, container_id, "sleep", "600")
    result = runtime("exec", "--env", "A=b", "--cwd", "/tmp", "--user", "65534:65534", container_id, "sh", "-c", "echo $A; pwd; id -u")
    assert result.stdout.splitlines() == ["b", "/tmp", "65534"], result.stderr


def test_exec_with_process_file(runtime, bundle, container_id, tmp_path):
    create_and_start(runtime, bundle, container_id, "sleep", "600")
    process = {"args": ["sh", "-c", "echo from process.json; id -u"], "cwd": "/", "user": {"uid": 12, "gid": 12}, "env": ["PATH=/bin"]}
    (tmp_path / "process.json").write_text(json.dumps(process))
    result = runtime("exec", "--process", tmp_path / "process.json", container_id)
    assert result.stdout.splitlines() == ["from process.json", "12"], result.stderr


def test_exec_detached_writes_pid_file(runtime, bundle, container_id, tmp_path):
    create_and_start(runtime, bundle, container_id, "sleep", "600")
    runtime("exec", "--detach", "--pid-file", tmp_path / "exec.pid", container_id, "sleep", "300", check=True)
    pid = int((tmp_path / "exec.pid").read_text())
    assert Path(f"/proc/{pid}/cmdline").read_text() == "sleep\x00300\x00"
    assert pid in json.loads(runtime("ps", "--format", "json", container_id, check=True).stdout)


def test_exec_of_a_missing_command_fails_clearly(runtime, bundle, container_id):
    create_and_start(runtime, bundle, container_id, "sleep", "600")
    result = runtime("exec", container_id, "no-such-command")
    assert result.returncode == 1
    assert 'exec: "no-such-command": executable file not found in $PATH' in result.stderr


def test_pause_and_resume(runtime, bundle, container_id):
    pid = create_and_start(runtime, bundle, container_id, "sleep", "600")["pid"]
    runtime("pause", container_id, check=True)
    assert runtime.state(container_id)["status"] == "paused"
    assert Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] in ("D", "S", "T")
    assert "cannot exec in a paused container" in runtime("exec", container_id, "true").stderr
    runtime("resume", container_id, check=True)
    assert runtime.state(container_id)["status"] == "running"
    assert "is not paused" in runtime("resume", container_id).stderr


def test_ps_and_list(runtime, bundle, container_id):
    pid = create_and_start(runtime, bundle, container_id, "sleep", "600")["pid"]
    table = runtime("ps", container_id, check=True).stdout.splitlines()
    assert table[0].split()[:2] == ["UID", "PID"]
    assert [line.split()[1] for line in table[1:]] == [str(pid)]
    listing = runtime("list", check=True).stdout.splitlines()
    assert listing[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert listing[1].split()[:4] == [container_id, str(pid), "running", str(bundle.path)]
    assert runtime("list", "-q", check=True).stdout == container_id + "\n"
    assert json.loads(runtime("list", "--format", "json", check=True).stdout)[0]["id"] == container_id


def test_kill_all_signals_every_process(runtime, bundle, container_id):
    # Without a pid namespace nothing else kills the children when init goes.
    bundle.config["linux"]["namespaces"] = [ns for ns in bundle.config["linux"]["namespaces"] if ns["type"] != "pid"]
    create_and_start(runtime, bundle, container_id, "sh", "-c", "sleep 600 & sleep 600 & wait")
    wait_for(lambda: len(json.loads(runtime("ps", "-f", "json", container_id).stdout)) == 3)
    pids = json.loads(runtime("ps", "-f", "json", container_id).stdout)
    runtime("kill", "--all", container_id, "KILL", check=True)
    wait_for(lambda: json.loads(runtime("ps", "-f", "json", container_id).stdout) == [])
    for pid in pids:
        assert not Path(f"/proc/{pid}/cmdline").exists() or Path(f"/proc/{pid}/cmdline").read_text() == ""


def test_run_detached_then_delete(runtime, bundle, container_id):
    bundle.command("sleep", "600").write()
    runtime("run", "--detach", "--bundle", bundle.path, container_id, check=True)
    assert runtime.state(container_id)["status"] == "running"
    runtime("delete", "--force", container_id, check=True)
    assert runtime.ids() == []
