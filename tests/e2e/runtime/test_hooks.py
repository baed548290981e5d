"""OCI hooks: when each kind runs, what it gets on stdin, and failures."""

import json

from berthtest import wait_for


def recording_hook(tmp_path, name):
    """A hook that appends its name and the state it was given to a log."""
    script = tmp_path / f"hook-{name}.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s ' {name} >> {tmp_path}/hooks.log\ncat >> {tmp_path}/hooks.log\necho >> {tmp_path}/hooks.log\n")
    script.chmod(0o755)
    return {"path": str(script), "args": [str(script), name]}


def read_log(tmp_path):
    entries = []
    for line in (tmp_path / "hooks.log").read_text().splitlines():
        name, _, state = line.partition(" ")
        entries.append((name, json.loads(state)))
    return entries


def test_hooks_run_in_order_with_the_state(runtime, bundle, container_id, tmp_path):
    kinds = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
    bundle.config["hooks"] = {kind: [recording_hook(tmp_path, kind)] for kind in kinds}
    # startContainer runs inside the container: show it the same directory.
    bundle.config["mounts"].append({"destination": str(tmp_path), "type": "bind", "source": str(tmp_path), "options": ["rbind"]})
    bundle.config["annotations"] = {"org.example.key": "value"}
    bundle.command("sleep", "600").write()
    runtime("create", "--bundle", bundle.path, container_id, check=True)
    pid = runtime.state(container_id)["pid"]
    assert [name for name, _ in read_log(tmp_path)] == kinds[:3]
    runtime("start", container_id, check=True)
    wait_for(lambda: len(read_log(tmp_path)) == 5)
    runtime("delete", "--force", container_id, check=True)
    log = read_log(tmp_path)
    assert [name for name, _ in log] == kinds
    for name, state in log:
        assert state["id"] == container_id
        assert state["bundle"] == str(bundle.path)
        assert state["annotations"] == {"org.example.key": "value"}
        if name != "poststop":
            assert state["pid"] == pid
    assert dict(log)["createRuntime"]["status"] == "creating"
    assert dict(log)["poststop"]["status"] == "stopped"


def test_failing_create_runtime_hook_fails_create_and_cleans_up(runtime, bundle, container_id, tmp_path):
    bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    bundle.command("sleep", "600").write()
    result = runtime("create", "--bundle", bundle.path, container_id)
    assert result.returncode == 1
    assert "createRuntime hook /bin/sh: exit status 3" in result.stderr
    assert runtime.ids() == []


def test_hook_timeout(runtime, bundle, container_id):
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}
    bundle.command("true").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode == 1
    assert "prestart hook /bin/sleep: timed out after 1s" in result.stderr
    assert runtime.ids() == []


def test_failing_poststart_and_poststop_hooks_warn_and_the_rest_still_run(runtime, bundle, container_id, tmp_path):
    bundle.config["hooks"] = {
        "poststart": [{"path": "/bin/false"}, recording_hook(tmp_path, "poststart")],
        "poststop": [{"path": "/bin/false"}, recording_hook(tmp_path, "poststop")],
    }
    bundle.command("sleep", "600").write()
    runtime("create", "--bundle", bundle.path, container_id, check=True)
    started = runtime("start", container_id)
    assert started.returncode == 0
    assert "warning: poststart hook /bin/false: exit status 1" in started.stderr
    deleted = runtime("delete", "--force", container_id)
    assert deleted.returncode == 0
    assert "warning: poststop hook /bin/false: exit status 1" in deleted.stderr
    assert [name for name, _ in read_log(tmp_path)] == ["poststart", "poststop"]
