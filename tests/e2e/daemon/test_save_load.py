"""save and load: docker-archive and OCI layout in one tar; IDs survive a round trip."""

import io
import json
import tarfile

from berthtest import Daemon


def members(path):
    with tarfile.open(path) as t:
        return {m.name: m for m in t.getmembers()}


def test_save_writes_docker_archive_and_oci_layout(busybox, tmp_path):
    busybox.berth("tag", "busybox", "extra:1", check=True)
    out = tmp_path / "images.tar"
    busybox.berth("save", "-o", out, "busybox", "extra:1", check=True)
    names = members(out)
    for required in ("manifest.json", "repositories", "index.json", "oci-layout"):
        assert required in names
    with tarfile.open(out) as t:
        manifest = json.load(t.extractfile("manifest.json"))
        index = json.load(t.extractfile("index.json"))
        repositories = json.load(t.extractfile("repositories"))
    assert len(manifest) == 1
    assert sorted(manifest[0]["RepoTags"]) == ["busybox:latest", "extra:1"]
    assert manifest[0]["Config"] in names and all(layer in names for layer in manifest[0]["Layers"])
    refs = sorted(m["annotations"]["io.containerd.image.name"] for m in index["manifests"])
    assert refs == ["docker.io/library/busybox:latest", "docker.io/library/extra:1"]
    assert set(repositories) == {"busybox", "extra"}


def test_save_then_load_into_a_fresh_daemon_keeps_ids(busybox, tmp_path):
    image_id = busybox.berth("inspect", "-f", "{{.Id}}", "busybox", check=True).stdout
    saved = busybox.berth("save", "busybox", input=b"", check=True).stdout  # to stdout
    other = Daemon(tmp_path / "other").start()
    try:
        loaded = other.berth("load", input=saved, check=True)
        assert loaded.stdout == b"Loaded image: busybox:latest\n"
        assert other.berth("inspect", "-f", "{{.Id}}", "busybox", check=True).stdout == image_id
        assert other.berth("load", "-q", "-i", tmp_path / "missing.tar").returncode == 1
    finally:
        other.stop()


def test_save_refuses_a_terminal_and_unknown_images(busybox, tmp_path):
    missing = busybox.berth("save", "-o", tmp_path / "x.tar", "nosuch")
    assert missing.returncode == 1
    assert missing.stderr == "Error response from daemon: No such image: nosuch:latest\n"
    assert not (tmp_path / "x.tar").exists()
    assert not (tmp_path / "x.tar.tmp").exists()


def test_load_rejects_bad_archives_and_keeps_nothing(daemon, tmp_path):
    def archive(files):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    cases = {
        "not a tar": (b"x" * 3000, "invalid archive"),
        "no manifest": (archive({"hello": b"hi"}), "neither manifest.json nor index.json"),
        "escape": (archive({"../../evil": b"x"}), "path escapes the archive"),
        "bad manifest": (archive({"manifest.json": b"{"}), "manifest.json: invalid JSON"),
        "missing blob": (archive({"manifest.json": b'[{"Config":"c.json","Layers":["l.tar"]}]'}), "archive: c.json is missing"),
        "layer mismatch": (archive({"manifest.json": b'[{"Config":"c.json","Layers":["l.tar"],"RepoTags":["bad:1"]}]',
                                    "c.json": json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode(),
                                    "l.tar": archive({"f": b"data"})}), "the config says sha256:"),
    }
    for name, (data, message) in cases.items():
        result = daemon.berth("load", input=data)
        assert result.returncode == 1, name
        assert message in result.stderr.decode(), (name, result.stderr)
    assert daemon.berth("images", "-q", check=True).stdout == ""
    assert list((daemon.data_root / "image" / "content" / "blobs" / "sha256").iterdir()) == []
    assert not (tmp_path.parent / "evil").exists()


def test_kill_9_during_load_leaves_a_consistent_store(busybox, tmp_path):
    import os
    import signal
    import subprocess
    import time

    from berthtest import BIN

    archive = tmp_path / "big.tar"
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "rootfs" / "data").write_bytes(os.urandom(8 << 20))
    subprocess.run(["tar", "-C", tmp_path / "rootfs", "-cf", tmp_path / "rootfs.tar", "."], check=True)
    busybox.berth("import", tmp_path / "rootfs.tar", "big", check=True)
    busybox.berth("save", "-o", archive, "big", check=True)
    busybox.berth("rmi", "big", check=True)
    before = sorted(p.name for p in (busybox.data_root / "image" / "content" / "blobs" / "sha256").iterdir())

    load = subprocess.Popen([str(BIN / "berth"), "-H", busybox.host, "load"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = archive.read_bytes()
    load.stdin.write(data[: len(data) // 2])
    load.stdin.flush()
    time.sleep(0.3)
    busybox.stop(signal.SIGKILL)
    load.kill()
    load.wait()
    busybox.start()
    assert busybox.berth("images", "--format", "{{.Repository}}", check=True).stdout == "busybox\n"
    after = sorted(p.name for p in (busybox.data_root / "image" / "content" / "blobs" / "sha256").iterdir())
    # What the half-read archive had stored was garbage, collected at start;
    # the image that was there before is whole.
    assert after == before
    assert busybox.berth("save", "-o", tmp_path / "again.tar", "busybox").returncode == 0
