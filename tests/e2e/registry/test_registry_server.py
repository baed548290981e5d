"""berth-registry speaking the OCI distribution API, driven over HTTP on
loopback as registry clients drive it."""

import base64
import hashlib
import json
import ssl
import urllib.error
import urllib.request

import subprocess

import pytest

from berthtest import BIN, Registry, make_certificate

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def digest_of(data: bytes):
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def registry(tmp_path):
    reg = Registry(tmp_path / "registry").start()
    yield reg
    reg.stop()


def call(registry, method, path, body=None, headers=None):
    """(status, headers, body) of a request; HTTP errors are answers too."""
    request = urllib.request.Request(registry.url(path), data=body, method=method, headers=headers or {})
    context = ssl.create_default_context(cafile=str(registry.tls[0])) if registry.tls else None
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def error_code(body):
    return json.loads(body)["errors"][0]["code"]


def push_blob_in_chunks(registry, name, data):
    status, headers, _ = call(registry, "POST", f"/v2/{name}/blobs/uploads/")
    assert status == 202
    location = headers["Location"]
    half = len(data) // 2
    status, headers, _ = call(registry, "PATCH", location, data[:half], {"Content-Range": f"0-{half - 1}"})
    assert (status, headers["Range"]) == (202, f"0-{half - 1}")
    status, headers, _ = call(registry, "GET", location)
    assert (status, headers["Range"]) == (204, f"0-{half - 1}")
    status, headers, _ = call(registry, "PUT", f"{location}?digest={digest_of(data)}", data[half:])
    assert status == 201 and headers["Docker-Content-Digest"] == digest_of(data)
    return digest_of(data)


def manifest_for(config, layer):
    return json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest_of(layer), "size": len(layer)}],
    }).encode()


def test_version_check_and_unknown_things(registry):
    status, headers, body = call(registry, "GET", "/v2/")
    assert (status, json.loads(body)) == (200, {})
    assert headers["Docker-Distribution-API-Version"] == "registry/2.0"
    status, _, body = call(registry, "GET", f"/v2/app/blobs/{digest_of(b'x')}")
    assert (status, error_code(body)) == (404, "BLOB_UNKNOWN")
    status, _, body = call(registry, "GET", "/v2/app/manifests/latest")
    assert (status, error_code(body)) == (404, "MANIFEST_UNKNOWN")
    # A reference no tag can be is unknown to read, invalid to push.
    status, _, body = call(registry, "HEAD", "/v2/app/manifests/.not-a-tag")
    assert status == 404
    status, _, body = call(registry, "PUT", "/v2/app/manifests/.not-a-tag", b"{}", {"Content-Type": OCI_MANIFEST})
    assert (status, error_code(body)) == (400, "TAG_INVALID")
    status, _, body = call(registry, "GET", "/v2/Bad_Name/tags/list")
    assert (status, error_code(body)) == (400, "NAME_INVALID")


def test_push_then_pull_an_image(registry):
    config, layer = b'{"architecture":"amd64","os":"linux"}', bytes(range(256)) * 4096
    status, headers, _ = call(registry, "POST", f"/v2/app/blobs/uploads/?digest={digest_of(config)}", config)
    assert status == 201 and headers["Location"] == f"/v2/app/blobs/{digest_of(config)}"
    push_blob_in_chunks(registry, "app", layer)
    manifest = manifest_for(config, layer)
    status, headers, _ = call(registry, "PUT", "/v2/app/manifests/v1", manifest, {"Content-Type": OCI_MANIFEST})
    assert status == 201 and headers["Docker-Content-Digest"] == digest_of(manifest)

    status, headers, body = call(registry, "GET", "/v2/app/manifests/v1")
    assert (status, body, headers["Content-Type"]) == (200, manifest, OCI_MANIFEST)
    status, headers, body = call(registry, "HEAD", f"/v2/app/manifests/{digest_of(manifest)}")
    assert (status, body, int(headers["Content-Length"])) == (200, b"", len(manifest))
    status, headers, body = call(registry, "GET", f"/v2/app/blobs/{digest_of(layer)}")
    assert (status, body) == (200, layer)
    status, headers, body = call(registry, "GET", f"/v2/app/blobs/{digest_of(layer)}", headers={"Range": "bytes=10-19"})
    assert (status, body, headers["Content-Range"]) == (206, layer[10:20], f"bytes 10-19/{len(layer)}")

    # An index of the manifest, and another repository by mount.
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": digest_of(manifest), "size": len(manifest),
         "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
    assert call(registry, "PUT", "/v2/app/manifests/multi", index, {"Content-Type": OCI_INDEX})[0] == 201
    status, headers, _ = call(registry, "POST", f"/v2/copy/blobs/uploads/?mount={digest_of(layer)}&from=app")
    assert status == 201
    assert call(registry, "HEAD", f"/v2/copy/blobs/{digest_of(layer)}")[0] == 200


def test_bad_input_is_refused_and_stores_nothing(registry, tmp_path):
    data = b"the real bytes"
    status, _, body = call(registry, "POST", f"/v2/app/blobs/uploads/?digest={digest_of(b'other bytes')}", data)
    assert (status, error_code(body)) == (400, "DIGEST_INVALID")
    assert call(registry, "HEAD", f"/v2/app/blobs/{digest_of(data)}")[0] == 404
    assert not list((tmp_path / "registry" / "blobs" / "sha256").iterdir())
    # A manifest naming a blob the repository lacks.
    status, _, body = call(registry, "PUT", "/v2/app/manifests/v1", manifest_for(b"{}", b"layer"), {"Content-Type": OCI_MANIFEST})
    assert (status, error_code(body)) == (400, "MANIFEST_BLOB_UNKNOWN")
    status, _, body = call(registry, "PUT", "/v2/app/manifests/v1", b"{not json", {"Content-Type": OCI_MANIFEST})
    assert (status, error_code(body)) == (400, "MANIFEST_INVALID")
    # Chunks out of order.
    _, headers, _ = call(registry, "POST", "/v2/app/blobs/uploads/")
    status, _, _ = call(registry, "PATCH", headers["Location"], b"abc", {"Content-Range": "5-7"})
    assert status == 416
    assert call(registry, "DELETE", headers["Location"])[0] == 204
    assert call(registry, "GET", headers["Location"])[0] == 404


def test_tags_and_catalog_paginate_with_link(registry):
    config, layer = b"{}", b"files"
    for blob in (config, layer):
        call(registry, "POST", f"/v2/app/blobs/uploads/?digest={digest_of(blob)}", blob)
    manifest = manifest_for(config, layer)
    for tag in ("a", "b", "c"):
        assert call(registry, "PUT", f"/v2/app/manifests/{tag}", manifest, {"Content-Type": OCI_MANIFEST})[0] == 201
    status, headers, body = call(registry, "GET", "/v2/app/tags/list?n=2")
    assert json.loads(body) == {"name": "app", "tags": ["a", "b"]}
    assert headers["Link"] == '</v2/app/tags/list?n=2&last=b>; rel="next"'
    status, headers, body = call(registry, "GET", "/v2/app/tags/list?n=2&last=b")
    assert json.loads(body)["tags"] == ["c"] and "Link" not in headers
    assert json.loads(call(registry, "GET", "/v2/_catalog")[2]) == {"repositories": ["app"]}
    # Deleting by digest takes the tags with it.
    assert call(registry, "DELETE", f"/v2/app/manifests/{digest_of(manifest)}")[0] == 202
    assert json.loads(call(registry, "GET", "/v2/app/tags/list")[2])["tags"] == []


# alice:s3cret, hashed with bcrypt.
HTPASSWD = "alice:$2b$04$xJES4B3IycTgnl.r9nqeK.MMEFyuuCVLE29lWYsCwis3qGIwtFgA2\n"


def test_basic_auth_from_htpasswd(tmp_path):
    (tmp_path / "htpasswd").write_text(HTPASSWD)
    registry = Registry(tmp_path / "registry", htpasswd=tmp_path / "htpasswd").start()
    try:
        status, headers, body = call(registry, "GET", "/v2/")
        assert (status, error_code(body)) == (401, "UNAUTHORIZED")
        assert headers["WWW-Authenticate"] == 'Basic realm="berth-registry"'
        wrong = {"Authorization": "Basic " + base64.b64encode(b"alice:nope").decode()}
        assert call(registry, "GET", "/v2/", headers=wrong)[0] == 401
        right = {"Authorization": "Basic " + base64.b64encode(b"alice:s3cret").decode()}
        assert call(registry, "GET", "/v2/", headers=right)[0] == 200
    finally:
        registry.stop()
    # A bad htpasswd file stops the server from starting.
    (tmp_path / "htpasswd").write_text("alice:plaintext\n")
    result = subprocess.run([str(BIN / "berth-registry"), "serve", "--addr", "127.0.0.1:0", "--root", tmp_path / "r2",
                             "--htpasswd", tmp_path / "htpasswd"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 1 and "want user:bcrypt-hash" in result.stderr


def test_gc_removes_only_unreferenced_blobs(tmp_path):
    registry = Registry(tmp_path / "registry").start()
    try:
        config, layer, orphan = b"{}", b"files", b"never referenced"
        for blob in (config, layer, orphan):
            assert call(registry, "POST", f"/v2/app/blobs/uploads/?digest={digest_of(blob)}", blob)[0] == 201
        call(registry, "PUT", "/v2/app/manifests/v1", manifest_for(config, layer), {"Content-Type": OCI_MANIFEST})
    finally:
        registry.stop()
    gc = [str(BIN / "berth-registry"), "gc", "--root", str(tmp_path / "registry")]
    dry = subprocess.run([*gc, "--dry-run"], capture_output=True, text=True, check=True).stdout
    assert dry == f"eligible for deletion: {digest_of(orphan)}\n1 blobs eligible for deletion\n"
    assert subprocess.run(gc, capture_output=True, text=True, check=True).stdout.endswith("1 blobs deleted\n")
    registry.start()
    try:
        assert call(registry, "HEAD", f"/v2/app/blobs/{digest_of(orphan)}")[0] == 404
        assert call(registry, "GET", "/v2/app/manifests/v1")[0] == 200
        assert call(registry, "GET", f"/v2/app/blobs/{digest_of(layer)}")[2] == layer
    finally:
        registry.stop()
    assert subprocess.run([*gc[:2], "--root", str(tmp_path / "nothing")], capture_output=True).returncode == 1


def test_referrers_list_the_manifests_of_a_subject(registry):
    config, layer = b"{}", b"files"
    for blob in (config, layer):
        call(registry, "POST", f"/v2/app/blobs/uploads/?digest={digest_of(blob)}", blob)
    image = manifest_for(config, layer)
    call(registry, "PUT", "/v2/app/manifests/v1", image, {"Content-Type": OCI_MANIFEST})
    signature = json.loads(manifest_for(config, layer))
    signature.update(artifactType="application/vnd.example.signature", annotations={"by": "alice"},
                     subject={"mediaType": OCI_MANIFEST, "digest": digest_of(image), "size": len(image)})
    signature = json.dumps(signature).encode()
    status, headers, _ = call(registry, "PUT", f"/v2/app/manifests/{digest_of(signature)}", signature, {"Content-Type": OCI_MANIFEST})
    assert status == 201 and headers["OCI-Subject"] == digest_of(image)
    status, headers, body = call(registry, "GET", f"/v2/app/referrers/{digest_of(image)}")
    assert status == 200 and headers["Content-Type"] == OCI_INDEX
    assert json.loads(body)["manifests"] == [{"mediaType": OCI_MANIFEST, "digest": digest_of(signature), "size": len(signature),
                                              "artifactType": "application/vnd.example.signature", "annotations": {"by": "alice"}}]
    status, headers, body = call(registry, "GET", f"/v2/app/referrers/{digest_of(image)}?artifactType=other/type")
    assert json.loads(body)["manifests"] == [] and headers["OCI-Filters-Applied"] == "artifactType"


def test_search_finds_repositories_by_name(registry):
    config, layer = b"{}", b"files"
    for name in ("team/web", "team/db", "other"):
        for blob in (config, layer):
            call(registry, "POST", f"/v2/{name}/blobs/uploads/?digest={digest_of(blob)}", blob)
        assert call(registry, "PUT", f"/v2/{name}/manifests/v1", manifest_for(config, layer), {"Content-Type": OCI_MANIFEST})[0] == 201
    status, _, body = call(registry, "GET", "/v1/search?q=team")
    found = json.loads(body)
    assert (status, found["num_results"], found["query"]) == (200, 2, "team")
    assert [r["name"] for r in found["results"]] == ["team/db", "team/web"]
    assert json.loads(call(registry, "GET", "/v1/search?q=team&n=1")[2])["num_results"] == 1
    assert call(registry, "GET", "/v1/search?q=team&n=0")[0] == 400


def test_tls_with_a_certificate_and_key(tmp_path):
    cert, key = make_certificate(tmp_path)
    registry = Registry(tmp_path / "registry", tls=(cert, key)).start()
    try:
        status, headers, body = call(registry, "GET", "/v2/")
        assert (status, json.loads(body)) == (200, {})
        data = bytes(range(256)) * 8192  # larger than one TLS record, sent from the file
        assert call(registry, "POST", f"/v2/app/blobs/uploads/?digest={digest_of(data)}", data)[0] == 201
        assert call(registry, "GET", f"/v2/app/blobs/{digest_of(data)}")[2] == data
        plain = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://{registry.address}/v2/"],
                               capture_output=True, text=True)
        assert plain.stdout == "000"  # no plain HTTP on a TLS port
    finally:
        registry.stop()
    result = subprocess.run([str(BIN / "berth-registry"), "serve", "--addr", "127.0.0.1:0", "--root", tmp_path / "r2",
                             "--tls-cert", cert], capture_output=True, text=True, timeout=10)
    assert result.returncode == 1 and "--tls-cert and --tls-key go together" in result.stderr
    result = subprocess.run([str(BIN / "berth-registry"), "serve", "--addr", "127.0.0.1:0", "--root", tmp_path / "r2",
                             "--tls-cert", key, "--tls-key", key], capture_output=True, text=True, timeout=10)
    assert result.returncode == 1 and "TLS certificate" in result.stderr
