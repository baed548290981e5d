"""Containers through berthd with the berth CLI: run, logs, stop, restart,
exec, ps, names, limits, restart policies. Real containers of the imported
busybox image."""

import re
import time

from berthtest import wait_for

# The memory and pids limits a container sees (cgroup v1 or v2).
LIMITS = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; "
          "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max")


def test_run_prints_output_and_returns_the_exit_code(busybox):
    r = busybox.berth("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert (r.returncode, r.stdout, r.stderr) == (0, "out\n", "err\n")
    assert busybox.berth("run", "--rm", "busybox", "sh", "-c", "exit 7").returncode == 7
    assert busybox.container_ids() == [], "--rm left the containers"


def test_run_of_a_missing_command_or_image(busybox):
    r = busybox.berth("run", "--rm", "busybox", "nonexistent-command")
    assert r.returncode == 127
    assert 'exec: "nonexistent-command": executable file not found in $PATH' in r.stderr
    # A missing image is pulled first; from a registry that is not there, that fails.
    r = busybox.berth("run", "127.0.0.1:9/nosuchimage")
    assert r.returncode == 125
    assert "Unable to find image '127.0.0.1:9/nosuchimage:latest' locally" in r.stderr
    assert "Failed to connect to 127.0.0.1 port 9" in r.stderr


def test_bad_flags_are_refused_and_create_nothing(busybox):
    for args in (["--restart", "sometimes"], ["-m", "lots"], ["--bogus-flag"], ["--network", "nosuchnet"],
                 ["--rm", "--restart", "always"], ["--ulimit", "nofile=10:5"], ["-p", "8080:80"], ["--add-host", "a:notanip"],
                 ["--dns", "nameserver"], ["--network", "host", "--add-host", "a:1.2.3.4"], ["-v", "/tmp:/x"]):
        r = busybox.berth("run", *args, "busybox", "true")
        assert r.returncode != 0, args
        assert r.stderr.strip(), args
    assert busybox.container_ids() == []


def test_detached_run_prints_the_id_and_logs_follow(busybox):
    r = busybox.berth("run", "-d", "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done; echo done >&2")
    container_id = r.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", container_id)
    follow = busybox.berth("logs", "-f", container_id[:12], timeout=20)
    assert follow.stdout == "line1\nline2\nline3\n"
    assert follow.stderr == "done\n"
    assert busybox.berth("logs", "--tail", "1", container_id).stdout == ""
    assert busybox.berth("logs", "--tail", "2", container_id).stdout == "line3\n"
    stamped = busybox.berth("logs", "-t", container_id).stdout.splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line1", stamped[0])


def test_stop_kills_a_process_that_ignores_sigterm(busybox):
    busybox.berth("run", "-d", "--name", "stubborn", "busybox", "sh", "-c", "trap '' TERM; while true; do sleep 1; done", check=True)
    started = time.monotonic()
    assert busybox.berth("stop", "-t", "1", "stubborn").stdout == "stubborn\n"
    assert time.monotonic() - started < 5
    assert busybox.inspect("stubborn", "{{.State.Status}} {{.State.ExitCode}}") == "exited 137"
    status = busybox.berth("ps", "-a", "--format", "{{.Status}}").stdout
    assert re.match(r"Exited \(137\) .* ago", status)


def test_stop_uses_the_stop_signal_and_sigterm_ends_a_shell_loop(busybox):
    busybox.berth("run", "-d", "--name", "polite", "--stop-signal", "USR1", "busybox", "sh", "-c",
                  "trap 'exit 42' USR1; while true; do sleep 0.1; done", check=True)
    busybox.berth("stop", "polite", check=True)
    assert busybox.inspect("polite", "{{.State.ExitCode}}") == "42"


def test_init_reaps_and_forwards_sigterm(busybox):
    r = busybox.berth("run", "--rm", "--init", "busybox", "ps", "-o", "pid,args")
    assert "1 /sbin/docker-init -- ps -o pid,args" in r.stdout, r.stderr
    # sleep as PID 1 would ignore SIGTERM; under the init it dies of it at once.
    busybox.berth("run", "-d", "--name", "tini", "--init", "busybox", "sleep", "1000", check=True)
    started = time.monotonic()
    busybox.berth("stop", "-t", "10", "tini", check=True)
    assert time.monotonic() - started < 5
    assert busybox.inspect("tini", "{{.State.ExitCode}} {{.HostConfig.Init}}") == "143 true"


def test_group_add_add_host_and_dns(busybox):
    r = busybox.berth("run", "--rm", "--group-add", "10", "--group-add", "nogroup", "--add-host", "db:10.0.0.5",
                      "--add-host", "v6=[::1]", "--dns", "192.0.2.53", "--dns-search", "example.com", "--dns-option", "ndots:2",
                      "busybox", "sh", "-c", "id -G; grep -v localhost /etc/hosts | grep -v ip6; cat /etc/resolv.conf")
    lines = r.stdout.splitlines()
    assert lines[0] == "0 10 65534", r.stderr
    assert lines[1:3] == ["10.0.0.5\tdb", "::1\tv6"]
    assert "nameserver 192.0.2.53" in lines and "search example.com" in lines and "options ndots:2" in lines
    assert not [line for line in lines[3:] if line.startswith("nameserver") and line != "nameserver 192.0.2.53"]
    r = busybox.berth("run", "--rm", "--group-add", "nosuchgroup", "busybox", "true")
    assert r.returncode != 0 and "unable to find group nosuchgroup" in r.stderr


def test_restart_and_start_again(busybox):
    busybox.berth("run", "-d", "--name", "again", "busybox", "sleep", "1000", check=True)
    first = busybox.inspect("again", "{{.State.Pid}}")
    busybox.berth("restart", "-t", "0", "again", check=True)
    second = busybox.inspect("again", "{{.State.Pid}}")
    assert second != first and int(second) > 0
    busybox.berth("stop", "-t", "0", "again", check=True)
    assert busybox.inspect("again", "{{.State.Running}}") == "false"
    busybox.berth("start", "again", check=True)
    assert busybox.inspect("again", "{{.State.Status}}") == "running"
    # An exited container started with -a prints its output again.
    busybox.berth("run", "--name", "echoer", "busybox", "echo", "hello", check=True)
    r = busybox.berth("start", "-a", "echoer")
    assert (r.returncode, r.stdout) == (0, "hello\n")
    assert busybox.berth("logs", "echoer").stdout == "hello\nhello\n"


def test_exec_in_a_running_container(busybox):
    busybox.berth("run", "-d", "--name", "box", "-e", "FROM_RUN=1", "busybox", "sleep", "1000", check=True)
    r = busybox.berth("exec", "box", "sh", "-c", "echo $FROM_RUN $HOSTNAME; exit 3")
    container_id = busybox.inspect("box", "{{.Id}}")
    assert (r.returncode, r.stdout) == (3, "1 " + container_id[:12] + "\n")
    assert busybox.berth("exec", "-e", "X=y", "-w", "/tmp", "box", "sh", "-c", "echo $X; pwd").stdout == "y\n/tmp\n"
    assert busybox.berth("exec", "-u", "1000:1000", "box", "id").stdout.startswith("uid=1000 gid=1000")
    assert busybox.berth("exec", "-i", "box", "cat", input="from stdin\n").stdout == "from stdin\n"
    # The exec is in the container's namespaces and cgroup.
    busybox.berth("exec", "-d", "box", "sleep", "77", check=True)
    wait_for(lambda: "sleep 77" in busybox.berth("top", "box").stdout)  # top lists the container's cgroup
    assert busybox.berth("exec", "box", "pidof", "sleep").stdout.split() != []
    assert busybox.berth("exec", "box", "sh", "-c", "echo $$").stdout != ""
    assert busybox.berth("exec", "box", "cat", "/proc/1/cmdline").stdout == "sleep\x001000\x00"
    r = busybox.berth("exec", "box", "nonexistent")
    assert r.returncode == 126 and "executable file not found" in r.stdout + r.stderr  # in the stream, as Docker writes it
    r = busybox.berth("exec", "-d", "box", "sh", "-c", "echo detached > /tmp/mark")
    assert r.returncode == 0 and r.stdout == ""
    wait_for(lambda: busybox.berth("exec", "box", "cat", "/tmp/mark").stdout == "detached\n")
    busybox.berth("stop", "-t", "0", "box", check=True)
    r = busybox.berth("exec", "box", "true")
    assert r.returncode != 0 and "is not running" in r.stderr


def test_ps_lists_filters_and_formats(busybox):
    busybox.berth("run", "-d", "--name", "alpha", "-l", "tier=web", "busybox", "sleep", "1000", check=True)
    busybox.berth("run", "--name", "beta", "-l", "tier=db", "busybox", "sh", "-c", "exit 3")
    busybox.berth("create", "--name", "gamma", "busybox", "true", check=True)
    names = lambda *args: busybox.berth("ps", *args, "--format", "{{.Names}}", check=True).stdout.split()
    assert names() == ["alpha"]
    assert names("-a") == ["gamma", "beta", "alpha"]
    assert names("-l") == ["gamma"]
    assert names("-n", "2") == ["gamma", "beta"]
    assert names("-a", "--filter", "status=exited") == ["beta"]
    assert names("-a", "--filter", "status=created") == ["gamma"]
    assert names("-a", "--filter", "exited=3") == ["beta"]
    assert names("-a", "--filter", "label=tier=web") == ["alpha"]
    assert names("-a", "--filter", "label=tier") == ["beta", "alpha"]
    assert names("-a", "--filter", "name=^/b") == ["beta"]
    assert names("-a", "--filter", "ancestor=busybox") == ["gamma", "beta", "alpha"]
    alpha_id = busybox.inspect("alpha", "{{.Id}}")
    assert names("-a", "--filter", "id=" + alpha_id[:10]) == ["alpha"]
    assert busybox.berth("ps", "-q").stdout.split() == [alpha_id[:12]]
    assert busybox.berth("ps", "-q", "--no-trunc").stdout.split() == [alpha_id]
    table = busybox.berth("ps", "-a").stdout.splitlines()
    assert re.match(r"CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$", table[0])
    assert re.match(r'[0-9a-f]{12} +busybox +"sleep 1000" +.* ago +Up .* +alpha$', table[3])
    assert re.search(r'"sh -c \'exit 3\'" +.* Exited \(3\) .* ago +beta$', table[2])
    assert re.search(r"Created +gamma$", table[1])
    r = busybox.berth("ps", "--filter", "colour=blue")
    assert r.returncode != 0 and "invalid filter 'colour'" in r.stderr


def test_names_are_generated_unique_and_found_by_prefix(busybox):
    ids = [busybox.berth("create", "busybox", "true", check=True).stdout.strip() for _ in range(17)]
    names = busybox.berth("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert len(set(names)) == 17
    assert all(re.fullmatch(r"[a-z]+_[a-z]+\d*", n) for n in names)
    for container_id in ids[:3]:
        assert busybox.inspect(container_id[:8], "{{.Id}}") == container_id
    # 17 IDs share at least one first hex digit: that prefix is ambiguous.
    first = [i[0] for i in ids]
    shared = next(c for c in first if first.count(c) > 1)
    r = busybox.berth("rm", shared)
    assert r.returncode == 1 and f"Multiple IDs found with provided prefix: {shared}" in r.stderr
    busybox.berth("create", "--name", "taken", "busybox", "true", check=True)
    r = busybox.berth("create", "--name", "taken", "busybox", "true")
    assert r.returncode == 125
    assert 'The container name "/taken" is already in use by container' in r.stderr
    r = busybox.berth("create", "--name", "bad name!", "busybox", "true")
    assert r.returncode == 125 and "Invalid container name" in r.stderr
    busybox.berth("rename", "taken", "renamed", check=True)
    assert busybox.inspect("renamed", "{{.Name}}") == "/renamed"


def test_rm_refuses_a_running_container_and_rm_f_kills_it(busybox):
    container_id = busybox.berth("run", "-d", "busybox", "sleep", "1000", check=True).stdout.strip()
    r = busybox.berth("rm", container_id)
    assert r.returncode == 1
    assert f"You cannot remove a running container {container_id}. Stop the container before attempting removal or force remove" in r.stderr
    pid = int(busybox.inspect(container_id, "{{.State.Pid}}"))
    assert busybox.berth("rm", "-f", container_id[:12]).stdout == container_id[:12] + "\n"
    wait_for(lambda: not __import__("os").path.exists(f"/proc/{pid}"))
    assert busybox.container_ids() == []
    r = busybox.berth("rm", container_id)
    assert "No such container: " + container_id in r.stderr


def test_memory_and_pids_limits_are_set_and_enforced(busybox):
    r = busybox.berth("run", "--rm", "-m", "32m", "--memory-swap", "32m", "--pids-limit", "20", "busybox", "sh", "-c", LIMITS)
    assert r.stdout.split() == ["33554432", "20"], r.stderr
    r = busybox.berth("run", "--rm", "--pids-limit", "10", "busybox", "sh", "-c",
                      "for i in $(seq 30); do sleep 1 & done; echo spawned")
    assert "can't fork" in r.stderr or "Resource temporarily unavailable" in r.stderr
    r = busybox.berth("run", "--name", "hog", "-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
                      "dd if=/dev/zero of=/dev/null bs=64M count=1")
    assert r.returncode == 137
    assert busybox.inspect("hog", "{{.State.ExitCode}} {{.State.OOMKilled}}") == "137 true"


def test_update_changes_the_limits_of_running_and_stopped_containers(busybox):
    busybox.berth("run", "-d", "--name", "elastic", "-m", "32m", "busybox", "sleep", "1000", check=True)
    r = busybox.berth("update", "-m", "64m", "--memory-swap", "128m", "--pids-limit", "30", "--restart", "on-failure:3", "elastic")
    assert (r.returncode, r.stdout) == (0, "elastic\n"), r.stderr
    assert busybox.berth("exec", "elastic", "sh", "-c", LIMITS, check=True).stdout.split() == ["67108864", "30"]
    assert busybox.inspect("elastic", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} "
                                      "{{.HostConfig.RestartPolicy.Name}}") == "67108864 134217728 30 on-failure"
    # Docker's refusals change nothing.
    r = busybox.berth("update", "-m", "256m", "elastic")
    assert r.returncode == 1
    assert "Memory limit should be smaller than already set memoryswap limit" in r.stderr
    assert busybox.berth("update", "--kernel-memory", "10m", "elastic").returncode == 1
    assert busybox.berth("update", "elastic").returncode == 1
    assert busybox.inspect("elastic", "{{.HostConfig.Memory}}") == "67108864"
    # A stopped container gets the new limits when it starts again.
    busybox.berth("stop", "-t", "0", "elastic", check=True)
    busybox.berth("update", "--pids-limit", "-1", "elastic", check=True)
    busybox.berth("start", "elastic", check=True)
    assert busybox.berth("exec", "elastic", "sh", "-c", LIMITS, check=True).stdout.split() == ["67108864", "max"]


def test_stats_and_df_show_the_container(busybox):
    busybox.berth("run", "-d", "--name", "busy", "-m", "64m", "busybox", "sh", "-c", "while true; do :; done", check=True)
    row = busybox.berth("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", check=True).stdout.split()
    assert row[0] == "busy" and float(row[1].rstrip("%")) > 10 and row[-2:] == ["64MiB", "1"], row
    df = busybox.berth("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}", check=True).stdout.splitlines()
    assert "Containers 1 1" in df
    assert "Running: 1" in busybox.berth("info", check=True).stdout


def test_restart_policy_always_restarts_a_dying_container(busybox):
    busybox.berth("run", "-d", "--name", "phoenix", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2; exit 1", check=True)
    wait_for(lambda: int(busybox.inspect("phoenix", "{{.RestartCount}}")) >= 2, timeout=20)
    assert busybox.inspect("phoenix", "{{.HostConfig.RestartPolicy.Name}}") == "always"
    busybox.berth("stop", "-t", "1", "phoenix", check=True)
    count = busybox.inspect("phoenix", "{{.RestartCount}}")
    time.sleep(1)
    assert busybox.inspect("phoenix", "{{.RestartCount}} {{.State.Running}}") == count + " false"
    # on-failure:N gives up after N restarts.
    busybox.berth("run", "-d", "--name", "limited", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3", check=True)
    wait_for(lambda: busybox.inspect("limited", "{{.RestartCount}} {{.State.Status}}") == "2 exited", timeout=20)


def test_pause_unpause_top_wait_and_nsenter(busybox):
    busybox.berth("run", "-d", "--name", "sleeper", "--hostname", "inside", "busybox", "sleep", "1000", check=True)
    top = busybox.berth("top", "sleeper", check=True).stdout.splitlines()
    assert top[0].split()[:2] == ["UID", "PID"] and "sleep 1000" in top[1]
    pid = busybox.inspect("sleeper", "{{.State.Pid}}")
    # ps options go to ps in their order, and only the container's processes show.
    top = busybox.berth("top", "sleeper", "-o", "pid,comm", check=True).stdout.split()
    assert top == ["PID", "COMMAND", pid, "sleep"]
    # A format showing .Size asks for the sizes, as the docker CLI does.
    assert "(virtual " in busybox.berth("ps", "--format", "{{.Size}}", check=True).stdout
    import subprocess
    hostname = subprocess.run(["nsenter", "-t", pid, "-m", "-u", "-i", "-n", "-p", "hostname"], capture_output=True, text=True)
    assert hostname.stdout == "inside\n"
    busybox.berth("pause", "sleeper", check=True)
    assert busybox.inspect("sleeper", "{{.State.Status}} {{.State.Paused}}") == "paused true"
    assert "(Paused)" in busybox.berth("ps", "--format", "{{.Status}}").stdout
    r = busybox.berth("pause", "sleeper")
    assert "is already paused" in r.stderr
    busybox.berth("unpause", "sleeper", check=True)
    assert busybox.inspect("sleeper", "{{.State.Status}}") == "running"
    busybox.berth("kill", "-s", "USR1", "sleeper", check=True)  # pid 1 without a handler ignores it, as in Docker
    assert busybox.inspect("sleeper", "{{.State.Status}}") == "running"
    busybox.berth("kill", "sleeper", check=True)
    assert busybox.berth("wait", "sleeper").stdout == "137\n"
    r = busybox.berth("kill", "sleeper")
    assert r.returncode == 1 and "is not running" in r.stderr


def test_container_prune_removes_stopped_containers(busybox):
    busybox.berth("run", "-d", "--name", "keep", "busybox", "sleep", "1000", check=True)
    busybox.berth("run", "--name", "gone", "busybox", "true", check=True)
    r = busybox.berth("container", "prune", "-f", check=True)
    assert r.stdout.startswith("Deleted Containers:\n")
    assert busybox.berth("ps", "-a", "--format", "{{.Names}}").stdout.split() == ["keep"]


def test_logs_rotate_at_max_size(busybox):
    busybox.berth("run", "--name", "chatty", "--log-opt", "max-size=2k", "--log-opt", "max-file=2", "busybox", "sh", "-c",
                  "for i in $(seq 200); do echo line-$i; done", check=True)
    log_path = busybox.inspect("chatty", "{{.LogPath}}")
    import os
    assert os.path.exists(log_path + ".1") and not os.path.exists(log_path + ".2")
    assert os.path.getsize(log_path) <= 2048 + 100
    lines = busybox.berth("logs", "chatty").stdout.splitlines()
    assert lines[-1] == "line-200" and 10 < len(lines) < 200  # the oldest were rotated away
    assert lines == [f"line-{i}" for i in range(201 - len(lines), 201)]
    r = busybox.berth("run", "--log-opt", "max-file=x", "busybox", "true")
    assert r.returncode == 125 and "max-file" in r.stderr
