"""Local images through berthd and the berth CLI, as Docker's tutorials use them."""

import io
import json
import os
import signal
import socket
import subprocess
import tarfile
import time

from berthtest import BIN, wait_for


def image_id(daemon, name):
    return daemon.berth("inspect", "-f", "{{.Id}}", name, check=True).stdout.strip()


def test_version_shows_client_and_server(daemon):
    out = daemon.berth("version", check=True).stdout
    assert "Client:" in out and "Server: berth" in out
    assert "API version:      1.43 (minimum version 1.24)" in out


def test_import_list_and_inspect(busybox):
    listing = busybox.berth("images", check=True).stdout.splitlines()
    assert listing[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert listing[1].split()[:2] == ["busybox", "latest"]
    assert listing[1].split()[2] == image_id(busybox, "busybox")[7:19]
    inspect = json.loads(busybox.berth("inspect", "busybox", check=True).stdout)
    assert len(inspect) == 1
    assert inspect[0]["RepoTags"] == ["busybox:latest"]
    assert inspect[0]["Config"]["Cmd"] == ["sh"]
    assert inspect[0]["RootFS"]["Type"] == "layers" and len(inspect[0]["RootFS"]["Layers"]) == 1
    assert busybox.berth("inspect", "-f", "{{.Os}}/{{.Architecture}} {{index .Config.Env 0}}", "busybox", check=True).stdout == \
        "linux/amd64 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"


def test_image_id_is_the_config_digest(busybox, tmp_path):
    full = image_id(busybox, "busybox")
    assert full.startswith("sha256:") and len(full) == 71
    assert busybox.berth("images", "-q", check=True).stdout == full[7:19] + "\n"
    assert busybox.berth("images", "-q", "--no-trunc", check=True).stdout == full + "\n"
    assert image_id(busybox, full[7:15]) == full  # a unique prefix names it


def test_import_from_file_with_changes_and_message(daemon, tmp_path):
    tar = tmp_path / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        data = b"hello\n"
        info = tarfile.TarInfo("greeting")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    out = daemon.berth("import", "-c", "ENV A=b", "--change", "CMD [\"cat\", \"/greeting\"]", "-c", "EXPOSE 8080",
                       "-m", "my message", tar, "mine:v1", check=True).stdout
    assert out.startswith("sha256:")
    fmt = "{{json .Config.Env}} {{json .Config.Cmd}} {{json .Config.ExposedPorts}} {{.Comment}}"
    assert daemon.berth("inspect", "-f", fmt, "mine:v1", check=True).stdout == \
        '["A=b"] ["cat","/greeting"] {"8080/tcp":{}} my message\n'
    history = daemon.berth("history", "mine:v1", check=True).stdout.splitlines()
    assert history[0].split()[0] == "IMAGE"
    assert history[1].endswith("my message")


def test_import_from_stdin_untagged_is_dangling(daemon, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        t.addfile(tarfile.TarInfo("empty"), io.BytesIO(b""))
    out = daemon.berth("import", "-", input=buf.getvalue(), check=True).stdout.decode()
    assert out.startswith("sha256:")
    rows = daemon.berth("images", check=True).stdout.splitlines()[1:]
    assert rows[0].split()[:2] == ["<none>", "<none>"]
    assert daemon.berth("images", "-q", "--filter", "dangling=true", check=True).stdout.strip() == out.strip()[7:19]
    assert daemon.berth("images", "-q", "--filter", "dangling=false", check=True).stdout == ""


def test_tag_and_untag(busybox):
    busybox.berth("tag", "busybox", "localhost:5000/tools/bb:1.0", check=True)
    busybox.berth("image", "tag", "busybox:latest", "other", check=True)
    tags = json.loads(busybox.berth("inspect", "-f", "{{json .RepoTags}}", "busybox", check=True).stdout)
    assert sorted(tags) == ["busybox:latest", "localhost:5000/tools/bb:1.0", "other:latest"]
    result = busybox.berth("rmi", "other")
    assert result.stdout == "Untagged: other:latest\n"
    assert busybox.berth("images", "--format", "{{.Repository}}:{{.Tag}}", "localhost:5000/tools/bb", check=True).stdout == \
        "localhost:5000/tools/bb:1.0\n"


def test_rmi_deletes_with_the_last_tag(busybox):
    full = image_id(busybox, "busybox")
    out = busybox.berth("rmi", "busybox", check=True).stdout.splitlines()
    assert out[0] == "Untagged: busybox:latest"
    assert out[1] == f"Deleted: {full}"
    assert out[2].startswith("Deleted: sha256:")
    assert busybox.berth("images", "-q", check=True).stdout == ""
    layers = busybox.data_root / "image" / "layers"
    assert [p.name for p in layers.iterdir() if p.name != "tmp"] == []


def test_rmi_by_id_with_several_tags_needs_force(busybox):
    busybox.berth("tag", "busybox", "second", check=True)
    short = image_id(busybox, "busybox")[7:19]
    refused = busybox.berth("rmi", short)
    assert refused.returncode == 1
    assert refused.stderr.strip() == \
        f"Error response from daemon: conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories"
    forced = busybox.berth("rmi", "-f", short, check=True).stdout.splitlines()
    assert sorted(forced[:2]) == ["Untagged: busybox:latest", "Untagged: second:latest"]
    assert forced[2].startswith("Deleted: sha256:")


def test_errors_read_like_dockers(busybox):
    missing = busybox.berth("rmi", "nosuch")
    assert (missing.returncode, missing.stderr) == (1, "Error response from daemon: No such image: nosuch:latest\n")
    assert busybox.berth("inspect", "nosuch").stderr == "Error: No such object: nosuch\n"
    bad = busybox.berth("tag", "busybox", "bad/Name")
    assert (bad.returncode, bad.stderr) == (1, 'Error parsing reference: "bad/Name" is not a valid repository/tag: '
                                                'invalid reference format: repository name (bad/Name) must be lowercase\n')
    template = busybox.berth("images", "--format", "{{.Nope}}")
    assert template.returncode == 1 and 'map has no entry for key "Nope"' in template.stderr
    assert busybox.berth("images", "--bogus").returncode == 125


def test_bad_tarball_import_leaves_nothing(daemon, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(os.urandom(4096))
    result = daemon.berth("import", junk)
    assert result.returncode == 1
    assert result.stderr.startswith("Error response from daemon: ")
    assert daemon.berth("images", "-q", check=True).stdout == ""
    blobs = daemon.data_root / "image" / "content" / "blobs" / "sha256"
    assert list(blobs.iterdir()) == []


def test_images_survive_a_daemon_restart(busybox):
    full = image_id(busybox, "busybox")
    busybox.stop()
    busybox.start()
    assert image_id(busybox, "busybox") == full


def test_kill_9_during_import_leaves_a_consistent_store(daemon, tmp_path):
    # Feed an import slowly, kill the daemon half way, and restart it.
    import_proc = subprocess.Popen([str(BIN / "berth"), "-H", daemon.host, "import", "-", "half"], stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = os.urandom(4 << 20)
        info = tarfile.TarInfo("big")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    payload = buf.getvalue()
    import_proc.stdin.write(payload[: len(payload) // 2])
    import_proc.stdin.flush()
    time.sleep(0.3)
    daemon.stop(signal.SIGKILL)
    import_proc.kill()
    import_proc.wait()
    daemon.start()
    assert daemon.berth("images", "-q", check=True).stdout == ""
    store = daemon.data_root / "image"
    assert list((store / "content" / "blobs" / "sha256").iterdir()) == []
    assert list((store / "content" / "ingest").iterdir()) == []
    assert [p.name for p in (store / "layers").iterdir() if p.name != "tmp"] == []


def test_events_report_image_changes(busybox):
    since = time.time() - 60
    busybox.berth("tag", "busybox", "evt", check=True)
    busybox.berth("rmi", "evt", check=True)
    until = time.time() + 1
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(str(busybox.socket))
    conn.sendall(f"GET /v1.43/events?since={since}&until={until} HTTP/1.0\r\n\r\n".encode())
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    body = data.split(b"\r\n\r\n", 1)[1].decode()
    actions = [json.loads(line)["Action"] for line in body.splitlines() if line.startswith("{")]
    assert actions == ["import", "tag", "untag"]


def test_image_prune_removes_dangling_then_unused(busybox, tmp_path):
    empty = tmp_path / "empty.tar"
    subprocess.run(["tar", "-cf", empty, "--files-from", "/dev/null"], check=True)
    dangling = busybox.berth("import", empty, check=True).stdout.strip()
    out = busybox.berth("image", "prune", "-f", check=True).stdout
    assert out.startswith("Deleted Images:\ndeleted: " + dangling + "\n")
    assert busybox.berth("images", "--format", "{{.Repository}}", check=True).stdout == "busybox\n"
    declined = busybox.berth("image", "prune", "-a", input="n\n", check=True)
    assert "Are you sure you want to continue? [y/N]" in declined.stdout
    assert busybox.berth("images", "-q", check=True).stdout != ""
    out = busybox.berth("image", "prune", "-a", "-f", check=True).stdout
    assert "untagged: busybox:latest" in out and out.endswith("Total reclaimed space: 1.98MB\n")
    assert busybox.berth("images", "-q", check=True).stdout == ""


def test_system_df(busybox):
    busybox.berth("tag", "busybox", "again", check=True)
    rows = busybox.berth("system", "df", check=True).stdout.splitlines()
    assert rows[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert rows[1].split() == ["Images", "1", "0", "1.98MB", "1.98MB", "(100%)"]
    assert busybox.berth("system", "df", "--format", "{{.Type}}={{.TotalCount}}", check=True).stdout.splitlines()[0] == "Images=1"


def test_import_from_a_url(daemon, tmp_path):
    import functools
    import http.server
    import threading

    (tmp_path / "www").mkdir()
    with tarfile.open(tmp_path / "www" / "rootfs.tar.gz", "w:gz") as t:
        data = b"served\n"
        info = tarfile.TarInfo("motd")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "www"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        out = daemon.berth("import", "-c", "CMD [\"cat\", \"/motd\"]", f"{base}/rootfs.tar.gz", "fromurl:1", check=True).stdout
        assert out.startswith("sha256:")
        assert daemon.berth("inspect", "-f", "{{.Config.Cmd}}", "fromurl:1", check=True).stdout == "[cat /motd]\n"
        missing = daemon.berth("import", f"{base}/missing.tar")
        assert missing.returncode == 1
        assert "The requested URL returned error: 404" in missing.stderr
        assert list((daemon.data_root / "tmp").iterdir()) == []
    finally:
        server.shutdown()


def test_help_reads_like_dockers(daemon):
    out = daemon.berth("images", "--help", check=True).stdout
    assert out.startswith("\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nList images\n\nOptions:\n")
    assert "  -q, --quiet           Only show image IDs\n" in out
    assert "      --format string   Format output using a custom template\n" in out
    image = daemon.berth("image", "--help", check=True).stdout
    assert "Commands:\n  ls        List images\n" in image
    assert daemon.berth("rmi", "--help", check=True).stdout.startswith("\nUsage:  berth rmi [OPTIONS] IMAGE [IMAGE...]\n")


def test_docker_flag_conventions(busybox):
    assert busybox.berth("images", "-aq", check=True).stdout == busybox.berth("images", "-a", "-q", check=True).stdout
    assert busybox.berth("images", "--format={{.Repository}}", check=True).stdout == "busybox\n"
    assert busybox.berth("rmi", "--", "busybox", check=True).stdout.startswith("Untagged: busybox:latest\n")


def test_concurrent_requests(busybox):
    from concurrent.futures import ThreadPoolExecutor

    def work(i):
        busybox.berth("tag", "busybox", f"parallel{i}:v{i}", check=True)
        busybox.berth("images", "-q", check=True)
        return busybox.berth("inspect", "-f", "{{.Id}}", f"parallel{i}:v{i}", check=True).stdout

    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = set(pool.map(work, range(32)))
    assert len(ids) == 1
    tags = busybox.berth("images", "--format", "{{.Repository}}", check=True).stdout.split()
    assert len(tags) == 33
