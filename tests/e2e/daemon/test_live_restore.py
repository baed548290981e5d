"""berthd killed with -9 and started again: the containers ran on under
their shims, and the daemon picks them up with their states."""

import signal

from berthtest import wait_for


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
