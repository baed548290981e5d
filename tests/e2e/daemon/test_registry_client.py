"""pull, push, login, logout and search against berth-registry on loopback,
as a user runs them: images built locally, pushed, removed, pulled back."""

import base64
import hashlib
import http.client
import http.server
import json
import os
import socket
import stat
import threading
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from berthtest import Registry, make_certificate

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


@pytest.fixture(autouse=True)
def docker_config(tmp_path, monkeypatch):
    """A config.json of the test's own: login must not touch root's."""
    path = tmp_path / "docker-config"
    monkeypatch.setenv("DOCKER_CONFIG", str(path))
    return path


@pytest.fixture
def registry(tmp_path):
    reg = Registry(tmp_path / "registry").start()
    yield reg
    reg.stop()


def make_image(d, name, *commands):
    """An image of busybox plus one layer per shell command (run, then commit)."""
    base = "busybox"
    for i, command in enumerate(commands):
        d.berth("run", "--name", "maker", base, "sh", "-c", command, check=True)
        step = f"{name}-step{i}"
        d.berth("commit", "maker", step, check=True)
        d.berth("rm", "maker", check=True)
        base = step
    d.berth("tag", base, name, check=True)
    for i in range(len(commands)):
        d.berth("rmi", f"{name}-step{i}", check=True)
    return d.inspect(name, "{{.Id}}")


def registry_get(reg, path, accept=None):
    request = urllib.request.Request(reg.url(path), headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request) as response:
        return response.read(), response.headers


def registry_put(reg, path, body, content_type):
    request = urllib.request.Request(reg.url(path), data=body, method="PUT", headers={"Content-Type": content_type})
    with urllib.request.urlopen(request) as response:
        return response.status


def upload_blob(reg, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    request = urllib.request.Request(reg.url(f"/v2/{repo}/blobs/uploads/?digest={digest}"), data=data, method="POST")
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
    return digest


def test_push_remove_pull_gives_back_the_same_image(busybox, registry):
    name = f"{registry.address}/app:v1"
    image_id = make_image(busybox, name, "echo one > /one", "head -c 300000 /dev/urandom > /random")
    pushed = busybox.berth("push", name, check=True).stdout
    assert f"The push refers to repository [{registry.address}/app]" in pushed
    assert pushed.count(": Pushed") == 3
    digest = pushed.strip().splitlines()[-1].split("digest: ")[1].split()[0]
    assert pushed.strip().endswith(f"size: {len(registry_get(registry, '/v2/app/manifests/v1', DOCKER_MANIFEST)[0])}")

    # Compression where it pays: busybox's binaries shrink, random bytes
    # go in plain deflate blocks (barely more than the data).
    layers = json.loads(registry_get(registry, "/v2/app/manifests/v1", DOCKER_MANIFEST)[0])["layers"]
    assert layers[0]["size"] < 0.7 * int(busybox.inspect("busybox", "{{.Size}}"))
    assert 300000 < layers[2]["size"] < 300000 * 1.01 + 4096

    # A second push finds every layer there.
    again = busybox.berth("push", name, check=True).stdout
    assert again.count("Layer already exists") == 3 and f"v1: digest: {digest}" in again

    busybox.berth("rmi", name, check=True)
    pulled = busybox.berth("pull", name, check=True)
    assert "v1: Pulling from app" in pulled.stdout
    assert f"Digest: {digest}" in pulled.stdout
    assert f"Status: Downloaded newer image for {name}" in pulled.stdout
    assert pulled.stdout.strip().endswith(name)
    assert busybox.inspect(name, "{{.Id}}") == image_id
    assert busybox.inspect(name, "{{index .RepoDigests 0}}") == f"{registry.address}/app@{digest}"
    assert busybox.berth("run", "--rm", name, "cat", "/one", check=True).stdout == "one\n"

    # Up to date: nothing downloaded.
    again = busybox.berth("pull", name, check=True).stdout
    assert f"Status: Image is up to date for {name}" in again and "Downloading" not in again

    # By digest: no tag, the image named by name@digest.
    busybox.berth("rmi", name, check=True)
    by_digest = f"{registry.address}/app@{digest}"
    busybox.berth("pull", by_digest, check=True)
    assert busybox.inspect(by_digest, "{{.Id}}") == image_id
    assert busybox.berth("images", "-q", f"{registry.address}/app").stdout.strip() != ""

    # rmi of a digest untags it, as Docker does; a repository's last tag
    # takes its digests along, and the image goes with its last name.
    busybox.berth("tag", by_digest, name, check=True)
    assert busybox.berth("rmi", by_digest, check=True).stdout == f"Untagged: {by_digest}\n"
    assert busybox.inspect(name, "{{.Id}}") == image_id
    busybox.berth("pull", by_digest, check=True)
    removed = busybox.berth("rmi", name, check=True).stdout.splitlines()
    assert removed[:3] == [f"Untagged: {name}", f"Untagged: {by_digest}", f"Deleted: {image_id}"]


def test_pull_quiet_all_tags_and_errors(busybox, registry):
    busybox.berth("tag", "busybox", f"{registry.address}/tags:a", check=True)
    busybox.berth("tag", "busybox", f"{registry.address}/tags:b", check=True)
    pushed = busybox.berth("push", "--all-tags", f"{registry.address}/tags", check=True).stdout
    assert "a: digest:" in pushed and "b: digest:" in pushed
    busybox.berth("rmi", f"{registry.address}/tags:a", f"{registry.address}/tags:b", check=True)

    quiet = busybox.berth("pull", "-q", f"{registry.address}/tags:a", check=True)
    assert quiet.stdout == f"{registry.address}/tags:a\n"
    every = busybox.berth("pull", "-a", f"{registry.address}/tags", check=True)
    assert f"Status: Downloaded newer image for {registry.address}/tags" in every.stdout
    assert busybox.inspect(f"{registry.address}/tags:b", "{{.Id}}") == busybox.inspect("busybox", "{{.Id}}")

    missing = busybox.berth("pull", f"{registry.address}/tags:nope")
    assert missing.returncode == 1
    assert f"manifest for {registry.address}/tags:nope not found: manifest unknown" in missing.stderr
    assert "tag can't be used with --all-tags/-a" in busybox.berth("pull", "-a", f"{registry.address}/tags:a").stderr
    assert "invalid reference format" in busybox.berth("pull", f"{registry.address}/Tags").stderr
    no_local = busybox.berth("push", f"{registry.address}/nothing:here")
    assert no_local.returncode == 1
    assert f"An image does not exist locally with the tag: {registry.address}/nothing" in no_local.stderr


def test_run_pulls_a_missing_image(busybox, registry):
    name = f"{registry.address}/runme:latest"
    busybox.berth("tag", "busybox", name, check=True)
    busybox.berth("push", name, check=True)
    busybox.berth("rmi", name, check=True)
    busybox.berth("rmi", "busybox", check=True)
    run = busybox.berth("run", "--rm", f"{registry.address}/runme", "echo", "hi")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "hi\n"
    assert f"Unable to find image '{name}' locally" in run.stderr
    assert "Pull complete" in run.stderr


def test_pull_of_an_index_picks_the_platform(busybox, registry):
    name = f"{registry.address}/multi"
    busybox.berth("tag", "busybox", f"{name}:amd64", check=True)
    busybox.berth("push", f"{name}:amd64", check=True)
    amd64_manifest, _ = registry_get(registry, "/v2/multi/manifests/amd64", DOCKER_MANIFEST)
    manifest = json.loads(amd64_manifest)
    config = json.loads(registry_get(registry, f"/v2/multi/blobs/{manifest['config']['digest']}")[0])
    # The same layers under an arm64 config, then an index of the two.
    config["architecture"] = "arm64"
    config["variant"] = "v8"
    arm_config = json.dumps(config).encode()
    manifest["config"] = {"mediaType": manifest["config"]["mediaType"], "size": len(arm_config),
                          "digest": upload_blob(registry, "multi", arm_config)}
    arm64_manifest = json.dumps(manifest).encode()
    registry_put(registry, "/v2/multi/manifests/arm64", arm64_manifest, DOCKER_MANIFEST)
    index = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": [
        {"mediaType": DOCKER_MANIFEST, "size": len(arm64_manifest), "digest": "sha256:" + hashlib.sha256(arm64_manifest).hexdigest(),
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": DOCKER_MANIFEST, "size": len(amd64_manifest), "digest": "sha256:" + hashlib.sha256(amd64_manifest).hexdigest(),
         "platform": {"os": "linux", "architecture": "amd64"}},
    ]}).encode()
    registry_put(registry, "/v2/multi/manifests/latest", index, DOCKER_LIST)
    index_digest = "sha256:" + hashlib.sha256(index).hexdigest()

    pulled = busybox.berth("pull", name, check=True).stdout
    assert f"Digest: {index_digest}" in pulled
    assert busybox.inspect(name, "{{.Id}}") == busybox.inspect("busybox", "{{.Id}}")
    assert busybox.inspect(name, "{{.Architecture}}") == "amd64"

    busybox.berth("pull", "--platform", "linux/arm64", f"{name}:latest", check=True)
    assert busybox.inspect(name, "{{.Architecture}}") == "arm64"
    none = busybox.berth("pull", "--platform", "linux/s390x", name)
    assert "no matching manifest for linux/s390x in the manifest list entries" in none.stderr


def test_login_push_pull_logout_with_basic_auth(busybox, tmp_path, docker_config):
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text("alice:$2b$04$xJES4B3IycTgnl.r9nqeK.MMEFyuuCVLE29lWYsCwis3qGIwtFgA2\n")  # alice:s3cret, bcrypt
    reg = Registry(tmp_path / "authreg", htpasswd=htpasswd).start()
    try:
        name = f"{reg.address}/private/app:v1"
        busybox.berth("tag", "busybox", name, check=True)
        denied = busybox.berth("push", name)
        assert denied.returncode == 1 and "unauthorized: authentication required" in denied.stderr

        wrong = busybox.berth("login", "-u", "alice", "--password-stdin", reg.address, input="nope\n")
        assert wrong.returncode == 1
        assert f"Error response from daemon: login attempt to http://{reg.address}/v2/ failed with status: 401 Unauthorized" in wrong.stderr
        assert not (docker_config / "config.json").exists()

        ok = busybox.berth("login", "-u", "alice", "--password-stdin", reg.address, input="s3cret\n")
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.strip().endswith("Login Succeeded")
        config = docker_config / "config.json"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        assert json.loads(config.read_text())["auths"][reg.address]["auth"] == "YWxpY2U6czNjcmV0"  # alice:s3cret

        busybox.berth("push", name, check=True)
        busybox.berth("rmi", name, check=True)
        busybox.berth("pull", name, check=True)

        out = busybox.berth("logout", reg.address, check=True).stdout
        assert out == f"Removing login credentials for {reg.address}\n"
        assert json.loads(config.read_text())["auths"] == {}
        assert busybox.berth("logout", reg.address, check=True).stdout == f"Not logged in to {reg.address}\n"
        busybox.berth("rmi", name, check=True)
        refused = busybox.berth("pull", name)
        assert refused.returncode == 1 and "pull access denied for" in refused.stderr
        assert "s3cret" not in (busybox.log.read_text() + refused.stderr)
    finally:
        reg.stop()


def test_a_corrupt_blob_fails_the_pull_and_stores_nothing(busybox, registry):
    name = f"{registry.address}/corrupt:v1"
    make_image(busybox, name, "head -c 200000 /dev/urandom > /data")
    pushed = busybox.berth("push", name, check=True).stdout
    manifest = json.loads(registry_get(registry, "/v2/corrupt/manifests/v1", DOCKER_MANIFEST)[0])
    layer = manifest["layers"][-1]["digest"]  # the random data; busybox's layer is stored already
    blob = registry.root / "blobs" / "sha256" / layer.split(":")[1]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    busybox.berth("rmi", name, check=True)
    images_before = busybox.berth("images", "-qa", check=True).stdout

    failed = busybox.berth("pull", name)
    assert failed.returncode == 1
    assert f"filesystem layer verification failed for digest {layer}" in failed.stderr
    assert busybox.berth("images", "-qa", check=True).stdout == images_before
    downloads = busybox.data_root / "downloads"
    assert not downloads.exists() or list(downloads.iterdir()) == []
    assert pushed  # the push itself was fine


def read_request_body(handler):
    """The body of a request to a BaseHTTPRequestHandler, sized or chunked
    (layers are streamed as they are compressed, as Docker does); None if empty."""
    if handler.headers.get("Transfer-Encoding", "").lower() != "chunked":
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else None
    body = b""
    while (size := int(handler.rfile.readline().split(b";")[0], 16)) > 0:
        body += handler.rfile.read(size)
        handler.rfile.readline()
    handler.rfile.readline()  # the empty trailer
    return body or None


class LoopbackServer:
    """An HTTP server on a free port of 127.0.0.1, serving from a thread until closed."""

    def __init__(self, handler):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class CuttingProxy(LoopbackServer):
    """A registry in front of the real one that dies in the middle of one
    blob the first time it is asked for: what a killed registry does to a pull."""

    def __init__(self, upstream, digest, cut_after):
        proxy = self
        self.ranges = []
        self.cut = True

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.forward(head=True)

            def do_GET(self):
                self.forward(head=False)

            def forward(self, head):
                connection = http.client.HTTPConnection(upstream)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "range", "authorization")}
                if self.path.endswith(digest):
                    proxy.ranges.append(self.headers.get("Range"))
                connection.request(self.command, self.path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.end_headers()
                if head:
                    return
                if self.path.endswith(digest) and proxy.cut:
                    proxy.cut = False
                    self.wfile.write(body[:cut_after])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(body)

        super().__init__(Handler)


def test_an_interrupted_pull_resumes_from_what_it_fetched(busybox, registry):
    name = f"{registry.address}/big:v1"
    image_id = make_image(busybox, name, "head -c 3000000 /dev/urandom > /big", "echo small > /small")
    busybox.berth("push", name, check=True)
    manifest = json.loads(registry_get(registry, "/v2/big/manifests/v1", DOCKER_MANIFEST)[0])
    big = manifest["layers"][1]["digest"]
    busybox.berth("rmi", name, check=True)
    proxy = CuttingProxy(registry.address, big, cut_after=1 << 20)
    try:
        via_proxy = f"{proxy.address}/big:v1"
        first = busybox.berth("pull", via_proxy)
        assert first.returncode == 1
        assert busybox.berth("images", "-q", via_proxy).stdout == ""
        second = busybox.berth("pull", via_proxy)
        assert second.returncode == 0, second.stderr
        assert proxy.ranges == [None, "bytes=1048576-"]
        assert busybox.inspect(via_proxy, "{{.Id}}") == image_id
    finally:
        proxy.close()


def test_abandoned_partial_downloads_go_after_a_day(busybox):
    downloads = busybox.data_root / "downloads"
    downloads.mkdir(exist_ok=True)
    old, fresh = downloads / ("a" * 64 + ".partial"), downloads / ("b" * 64 + ".partial")
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    busybox.stop()
    busybox.start()
    assert not old.exists() and fresh.exists()


def test_search_finds_a_pushed_repository(busybox, registry):
    busybox.berth("tag", "busybox", f"{registry.address}/findme/tool:v1", check=True)
    busybox.berth("push", f"{registry.address}/findme/tool:v1", check=True)
    found = busybox.berth("search", f"{registry.address}/findme", check=True).stdout.splitlines()
    assert found[0].split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
    assert found[1].split()[0] == "findme/tool"
    names = busybox.berth("search", "--format", "{{.Name}}", "--limit", "5", f"{registry.address}/tool", check=True).stdout
    assert names == "findme/tool\n"
    assert busybox.berth("search", f"{registry.address}/nothing-like-it", check=True).stdout.splitlines()[1:] == []
    assert busybox.berth("search", "--filter", "is-official=true", f"{registry.address}/findme", check=True).stdout.count("\n") == 1
    bad = busybox.berth("search", "--limit", "1000", f"{registry.address}/findme")
    assert bad.returncode == 1 and "limit 1000 is outside the range of [1, 100]" in bad.stderr


class TokenAuthProxy(LoopbackServer):
    """A registry behind the bearer token flow, as Docker Hub runs it: /v2/
    answers 401 with a Bearer challenge, /token trades Basic credentials for a
    token scoped to what was asked, and every request needs one."""

    def __init__(self, upstream, username, password):
        proxy = self
        self.token_requests = []
        self.requests = []  # (method, path) sent on to the registry
        self.tokens = {}  # token → scopes
        expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_request(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/token":
                    query = urllib.parse.parse_qs(url.query)
                    proxy.token_requests.append(query.get("scope", []))
                    if self.headers.get("Authorization") != expected:
                        return self.reply(401, b'{"details":"incorrect username or password"}')
                    token = uuid.uuid4().hex
                    proxy.tokens[token] = query.get("scope", [])
                    return self.reply(200, json.dumps({"token": token}).encode(), [("Content-Type", "application/json")])
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in proxy.tokens:
                    challenge = f'Bearer realm="http://{proxy.address}/token",service="test-registry"'
                    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}'
                    return self.reply(401, body, [("WWW-Authenticate", challenge), ("Content-Type", "application/json")])
                proxy.requests.append((self.command, url.path))
                body = read_request_body(self)
                connection = http.client.HTTPConnection(upstream)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "range", "content-type", "content-range")}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                kept = [(k, v) for k, v in response.getheaders() if k.lower() not in ("connection", "transfer-encoding", "content-length")]
                self.reply(response.status, data, kept)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_request

        super().__init__(Handler)


def test_bearer_token_flow(busybox, registry):
    proxy = TokenAuthProxy(registry.address, "bob", "hunter2")
    try:
        name = f"{proxy.address}/team/app:v1"
        busybox.berth("tag", "busybox", name, check=True)
        wrong = busybox.berth("login", "-u", "bob", "--password-stdin", proxy.address, input="nope\n")
        assert wrong.returncode == 1 and "Error response from daemon" in wrong.stderr and "nope" not in wrong.stderr
        busybox.berth("login", "-u", "bob", "--password-stdin", proxy.address, input="hunter2\n", check=True)

        proxy.token_requests.clear()
        busybox.berth("push", name, check=True)
        # One token for the whole push, scoped to pull and push of the repository.
        assert proxy.token_requests == [["repository:team/app:pull,push"]]
        busybox.berth("rmi", name, check=True)
        proxy.token_requests.clear()
        busybox.berth("pull", name, check=True)
        assert proxy.token_requests == [["repository:team/app:pull"]]
        assert busybox.inspect(name, "{{.Id}}") == busybox.inspect("busybox", "{{.Id}}")

        busybox.berth("logout", proxy.address, check=True)
        busybox.berth("rmi", name, check=True)
        anonymous = busybox.berth("pull", name)
        assert anonymous.returncode == 1 and "pull access denied" in anonymous.stderr
    finally:
        proxy.close()


def test_a_large_layer_goes_up_in_chunks(busybox, registry):
    proxy = TokenAuthProxy(registry.address, "bob", "hunter2")
    try:
        busybox.berth("login", "-u", "bob", "--password-stdin", proxy.address, input="hunter2\n", check=True)
        name = f"{proxy.address}/large:v1"
        image_id = make_image(busybox, name, "head -c 70000000 /dev/urandom > /large")
        # The base layer first: small layers go up in one streamed PATCH.
        busybox.berth("tag", "busybox", f"{proxy.address}/large:base", check=True)
        busybox.berth("push", f"{proxy.address}/large:base", check=True)
        proxy.requests.clear()
        busybox.berth("push", name, check=True)
        # Larger than 64 MiB: two PATCHes, then the PUT that closes the upload.
        patches = [path for method, path in proxy.requests if method == "PATCH"]
        assert len(patches) == 2 and all(p.startswith("/v2/large/blobs/uploads/") for p in patches)
        busybox.berth("rmi", name, check=True)
        busybox.berth("pull", name, check=True)
        assert busybox.inspect(name, "{{.Id}}") == image_id
    finally:
        proxy.close()


def test_push_and_pull_over_tls(busybox, tmp_path):
    # A loopback registry may present a certificate nobody signed, as Docker allows.
    reg = Registry(tmp_path / "tlsreg", tls=make_certificate(tmp_path)).start()
    try:
        name = f"{reg.address}/secure:v1"
        busybox.berth("tag", "busybox", name, check=True)
        busybox.berth("push", name, check=True)
        busybox.berth("rmi", name, check=True)
        busybox.berth("pull", name, check=True)
        assert busybox.inspect(name, "{{.Id}}") == busybox.inspect("busybox", "{{.Id}}")
    finally:
        reg.stop()
