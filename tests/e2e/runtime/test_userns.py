"""User namespaces: root inside maps to an unprivileged uid on the host."""

from pathlib import Path

HOST_BASE = 100000


def userns_bundle(bundle):
    # The mapped root must be able to reach the rootfs: pytest's temporary
    # directories are private to the host's root.
    for directory in [bundle.path, *bundle.path.parents]:
        directory.chmod(directory.stat().st_mode | 0o005)
        if str(directory) == "/tmp":
            break
    linux = bundle.config["linux"]
    linux["namespaces"].append({"type": "user"})
    linux["uidMappings"] = [{"containerID": 0, "hostID": HOST_BASE, "size": 65536}]
    linux["gidMappings"] = [{"containerID": 0, "hostID": HOST_BASE, "size": 65536}]
    return bundle


def host_ids(pid, field):
    line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith(field + ":"))
    return line.split()[1:]


def test_root_in_the_container_is_an_unprivileged_host_uid(runtime, bundle, container_id):
    userns_bundle(bundle).command("sh", "-c", "id -u; cat /proc/self/uid_map; sleep 600").write()
    runtime("create", "--bundle", bundle.path, container_id, check=True)
    runtime("start", container_id, check=True)
    pid = runtime.state(container_id)["pid"]
    assert host_ids(pid, "Uid") == [str(HOST_BASE)] * 4
    assert host_ids(pid, "Gid") == [str(HOST_BASE)] * 4
    result = runtime("exec", container_id, "sh", "-c", "id -u; cat /proc/self/uid_map; touch /tmp/x && ls -ln /tmp/x")
    lines = result.stdout.splitlines()
    assert lines[0] == "0", result.stderr
    assert lines[1].split() == ["0", str(HOST_BASE), "65536"]
    assert lines[2].split()[2:4] == ["0", "0"]


def test_host_root_files_are_not_writable_from_the_user_namespace(runtime, bundle, container_id):
    bundle.config["root"]["readonly"] = False
    userns_bundle(bundle).command("sh", "-c", "touch /etc/new-file || echo refused").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert "refused" in result.stdout
    assert not (bundle.rootfs / "etc" / "new-file").exists()


def test_new_user_namespace_needs_mappings(runtime, bundle, container_id):
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.command("true").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode == 1
    assert "linux.uidMappings: required with a new user namespace" in result.stderr
