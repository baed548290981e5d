"""skopeo against berth-registry: an image saved by berth is copied into the
registry, inspected, listed and copied back out into berthd unchanged."""

import json
import shutil
import subprocess

import pytest

from berthtest import Daemon, Registry, make_certificate

SKOPEO = shutil.which("skopeo")
pytestmark = pytest.mark.skipif(not SKOPEO, reason="skopeo is not installed (scripts/setup-compat)")


def skopeo(*args):
    result = subprocess.run([SKOPEO, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_skopeo_copy_inspect_and_list_tags(tmp_path):
    daemon = Daemon(tmp_path / "berthd").start()
    registry = Registry(tmp_path / "registry").start()
    try:
        daemon.import_busybox()
        image_id = daemon.berth("inspect", "-f", "{{.Id}}", "busybox", check=True).stdout.strip()
        daemon.berth("save", "-o", tmp_path / "busybox.tar", "busybox", check=True)
        ref = f"docker://{registry.address}/library/busybox"
        skopeo("copy", "--dest-tls-verify=false", f"docker-archive:{tmp_path / 'busybox.tar'}", f"{ref}:v1")
        skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", f"{ref}:v1", f"{ref}:v2")
        info = json.loads(skopeo("inspect", "--tls-verify=false", f"{ref}:v1"))
        assert info["Os"] == "linux" and info["Architecture"] == "amd64" and len(info["Layers"]) == 1
        assert json.loads(skopeo("list-tags", "--tls-verify=false", ref))["Tags"] == ["v1", "v2"]
        skopeo("copy", "--src-tls-verify=false", f"{ref}:v2", f"docker-archive:{tmp_path / 'back.tar'}:back:v2")
        daemon.berth("load", "-i", tmp_path / "back.tar", check=True)
        assert daemon.berth("inspect", "-f", "{{.Id}}", "back:v2", check=True).stdout.strip() == image_id
    finally:
        registry.stop()
        daemon.stop()


def test_skopeo_with_basic_auth(tmp_path):
    # alice:s3cret, hashed with bcrypt.
    (tmp_path / "htpasswd").write_text("alice:$2b$04$xJES4B3IycTgnl.r9nqeK.MMEFyuuCVLE29lWYsCwis3qGIwtFgA2\n")
    daemon = Daemon(tmp_path / "berthd").start()
    registry = Registry(tmp_path / "registry", htpasswd=tmp_path / "htpasswd").start()
    try:
        daemon.import_busybox()
        daemon.berth("save", "-o", tmp_path / "busybox.tar", "busybox", check=True)
        ref = f"docker://{registry.address}/private/busybox:v1"
        denied = subprocess.run([SKOPEO, "copy", "--dest-tls-verify=false", f"docker-archive:{tmp_path / 'busybox.tar'}", ref],
                                capture_output=True, text=True, timeout=120)
        assert denied.returncode != 0 and "authentication required" in denied.stderr
        skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret", f"docker-archive:{tmp_path / 'busybox.tar'}", ref)
        assert json.loads(skopeo("inspect", "--tls-verify=false", "--creds", "alice:s3cret", ref))["Os"] == "linux"
    finally:
        registry.stop()
        daemon.stop()


def test_skopeo_over_tls_verifies_the_certificate(tmp_path):
    cert, key = make_certificate(tmp_path)
    (tmp_path / "certs.d").mkdir()
    (tmp_path / "certs.d" / "ca.crt").write_bytes(cert.read_bytes())
    daemon = Daemon(tmp_path / "berthd").start()
    registry = Registry(tmp_path / "registry", tls=(cert, key)).start()
    try:
        daemon.import_busybox()
        daemon.berth("save", "-o", tmp_path / "busybox.tar", "busybox", check=True)
        ref = f"docker://{registry.address}/secure/busybox:v1"
        skopeo("copy", "--dest-cert-dir", tmp_path / "certs.d", f"docker-archive:{tmp_path / 'busybox.tar'}", ref)
        assert json.loads(skopeo("inspect", "--cert-dir", tmp_path / "certs.d", ref))["Os"] == "linux"
        # Without the CA, the certificate is not trusted.
        untrusted = subprocess.run([SKOPEO, "inspect", ref], capture_output=True, text=True, timeout=60)
        assert untrusted.returncode != 0 and "certificate" in untrusted.stderr
    finally:
        registry.stop()
        daemon.stop()
