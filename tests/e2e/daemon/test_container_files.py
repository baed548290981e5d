"""A container's files: diff, commit (then run the new image), export then
import, cp in both directions."""

import subprocess
import tarfile

import pytest


@pytest.fixture
def changed(busybox):
    busybox.berth("run", "--name", "changed", "busybox", "sh", "-c",
                  "echo hello > /greeting; rm /bin/vi; mkdir -p /data/sub; echo x > /data/sub/f", check=True)
    return busybox


def test_diff_lists_what_the_container_changed(changed):
    assert changed.berth("diff", "changed").stdout.splitlines() == [
        "C /bin", "D /bin/vi", "A /data", "A /data/sub", "A /data/sub/f", "A /greeting"]


def test_commit_makes_an_image_that_runs(changed):
    r = changed.berth("commit", "-m", "add greeting", "-a", "me", "-c", 'CMD ["cat", "/greeting"]', "changed", "greeted:v1")
    assert r.returncode == 0 and r.stdout.startswith("sha256:"), r.stderr
    assert changed.berth("run", "--rm", "greeted:v1").stdout == "hello\n"
    assert changed.berth("run", "--rm", "greeted:v1", "ls", "/bin/vi").returncode != 0
    history = changed.berth("history", "--format", "{{.Comment}}", "greeted:v1").stdout.splitlines()
    assert history[0] == "add greeting"
    assert changed.inspect("greeted:v1", "{{.Author}} {{len .RootFS.Layers}}") == "me 2"
    # The files berth puts in every container are not part of the commit.
    r = changed.berth("run", "--rm", "greeted:v1", "sh", "-c", "wc -c < /etc/hostname")
    assert r.stdout.strip() != "0"
    # The image is in use: rmi refuses, as Docker does, until the container is gone.
    changed.berth("create", "--name", "user", "greeted:v1", check=True)
    r = changed.berth("rmi", "greeted:v1")
    assert r.returncode == 1 and "container" in r.stderr and "is using its referenced image" in r.stderr
    # Forced, it only untags: the image stays under the container, dangling.
    image_id = changed.inspect("greeted:v1", "{{.Id}}")
    r = changed.berth("rmi", "-f", "greeted:v1")
    assert (r.returncode, r.stdout) == (0, "Untagged: greeted:v1\n"), r.stderr
    assert changed.berth("start", "-a", "user").stdout == "hello\n"
    changed.berth("rm", "user", check=True)
    assert changed.berth("rmi", image_id).stdout.startswith("Deleted: " + image_id)


def test_export_then_import_runs_the_same_files(changed, tmp_path):
    with open(tmp_path / "fs.tar", "wb") as out:
        assert subprocess.run([*changed_cli(changed), "export", "changed"], stdout=out).returncode == 0
    names = tarfile.open(tmp_path / "fs.tar").getnames()
    assert "greeting" in names and "data/sub/f" in names and "bin/vi" not in names
    changed.berth("import", tmp_path / "fs.tar", "flat:1", check=True)
    assert changed.berth("run", "--rm", "flat:1", "cat", "/greeting", "/data/sub/f").stdout == "hello\nx\n"
    assert changed.berth("export", "-o", tmp_path / "out.tar", "changed").returncode == 0
    assert (tmp_path / "out.tar").stat().st_size > 1000


def changed_cli(daemon):
    from berthtest import BIN
    return [str(BIN / "berth"), "-H", daemon.host]


def test_cp_both_ways(changed, tmp_path):
    tmp_path = tmp_path / "files"  # beside the daemon's own directories
    tmp_path.mkdir()
    changed.berth("cp", "changed:/data", tmp_path, check=True)
    assert (tmp_path / "data" / "sub" / "f").read_text() == "x\n"
    changed.berth("cp", "changed:/greeting", tmp_path / "renamed", check=True)
    assert (tmp_path / "renamed").read_text() == "hello\n"
    (tmp_path / "local.txt").write_text("from the host\n")
    changed.berth("run", "-d", "--name", "live", "busybox", "sleep", "1000", check=True)
    r = changed.berth("cp", tmp_path / "local.txt", "live:/tmp/")
    assert r.returncode == 0 and "Successfully copied" in r.stderr
    changed.berth("cp", tmp_path / "local.txt", "live:/etc/other.txt", check=True)
    changed.berth("cp", tmp_path / "data", "live:/", check=True)
    r = changed.berth("exec", "live", "cat", "/tmp/local.txt", "/etc/other.txt", "/data/sub/f")
    assert r.stdout == "from the host\nfrom the host\nx\n"
    # A stopped container takes files too.
    changed.berth("cp", tmp_path / "local.txt", "changed:/local.txt", check=True)
    assert "A /local.txt" in changed.berth("diff", "changed").stdout
    r = changed.berth("cp", "changed:/nonexistent", tmp_path / "x")
    assert r.returncode == 1 and "Could not find the file /nonexistent in container changed" in r.stderr
    # A symlink in the container pointing out of it stays inside.
    changed.berth("exec", "live", "ln", "-s", "/", "/tmp/escape", check=True)
    changed.berth("cp", tmp_path / "local.txt", "live:/tmp/escape/", check=True)
    assert changed.berth("exec", "live", "cat", "/local.txt").stdout == "from the host\n"
    import os
    assert not os.path.exists("/local.txt")
