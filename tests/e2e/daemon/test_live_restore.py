"""berthd killed with -9 and started again: the containers ran on under
their shims, and the daemon picks them up with their states."""

import signal
import subprocess

from berthtest import mounts_under, wait_for


def test_containers_survive_a_daemon_killed_with_sigkill(busybox):
    names = [f"c{i}" for i in range(20)]
    for name in names:
        busybox.berth("run", "-d", "--name", name, "busybox", "sh", "-c", "echo up; trap 'exit 9' TERM; while true; do sleep 0.1; done",
                      check=True)
    busybox.berth("run", "-d", "--name", "short", "busybox", "sh", "-c", "sleep 2; echo bye; exit 4", check=True)
    pids = {name: busybox.inspect(name, "{{.State.Pid}}") for name in names}
    busybox.stop(signal.SIGKILL)
    # While no daemon runs, one container ends on its own.
    wait_for(lambda: not __import__("os").path.exists(f"/proc/{busybox_pid_of(busybox, 'short')}"), timeout=10)
    busybox.start()
    running = busybox.berth("ps", "--format", "{{.Names}} {{.State}}", check=True).stdout.split("\n")
    assert sorted(line for line in running if line) == sorted(f"{n} running" for n in names)
    for name in names:
        assert busybox.inspect(name, "{{.State.Pid}}") == pids[name]
    assert busybox.inspect("short", "{{.State.Status}} {{.State.ExitCode}}") == "exited 4"
    assert busybox.berth("logs", "short").stdout == "bye\n"
    # Still manageable: exec, logs, stop with the right exit code.
    r = busybox.berth("exec", "c3", "echo", "still here")
    assert r.stdout == "still here\n", r
    assert busybox.berth("logs", "c3").stdout == "up\n"
    busybox.berth("stop", "c3", check=True)
    assert busybox.inspect("c3", "{{.State.ExitCode}}") == "9"


def busybox_pid_of(daemon, name, cache={}):
    # The pid recorded before the daemon was killed (inspect needs the daemon).
    if name not in cache:
        import json
        import pathlib
        for record in pathlib.Path(daemon.data_root, "containers").glob("*/container.json"):
            doc = json.loads(record.read_text())
            if doc["name"] == name:
                cache[name] = doc["state"]["pid"]
    return cache[name]


def test_always_containers_start_again_with_the_daemon(busybox):
    busybox.berth("run", "-d", "--name", "always", "--restart", "always", "busybox", "sleep", "1000", check=True)
    busybox.berth("run", "-d", "--name", "stopped", "--restart", "always", "busybox", "sleep", "1000", check=True)
    busybox.berth("stop", "-t", "0", "stopped", check=True)
    pid = busybox.inspect("always", "{{.State.Pid}}")
    busybox.stop(signal.SIGKILL)
    import os
    os.kill(int(pid), signal.SIGKILL)  # it dies while no daemon runs
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"))
    busybox.start()
    wait_for(lambda: busybox.inspect("always", "{{.State.Status}}") == "running")
    assert busybox.inspect("always", "{{.State.Pid}}") != pid
    assert busybox.inspect("stopped", "{{.State.Status}}") == "exited"


def test_rm_containers_that_ended_while_the_daemon_was_down_go_at_its_start(busybox):
    busybox.berth("run", "-d", "--rm", "--name", "brief", "busybox", "sh", "-c", "sleep 1", check=True)
    pid = busybox.inspect("brief", "{{.State.Pid}}")
    busybox.stop(signal.SIGKILL)
    import os
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"))
    busybox.start()
    wait_for(lambda: busybox.container_ids() == [])
    wait_for(lambda: list((busybox.data_root / "trash").iterdir()) == [])
    assert mounts_under(busybox.data_root) == []


def test_a_removal_cut_short_is_finished_at_the_daemon_start(busybox):
    """Removal moves the container's directory to trash/ and deletes it after
    its waiters have heard; a daemon killed in between finishes it."""
    busybox.stop()
    left = busybox.data_root / "trash" / "0123abcd"
    (left / "rootfs").mkdir(parents=True)
    (left / "upper" / "etc").mkdir(parents=True)
    (left / "upper" / "etc" / "hosts").write_text("x")
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(left / "rootfs")], check=True)
    busybox.start()
    assert not left.exists()
    assert mounts_under(busybox.data_root) == []
