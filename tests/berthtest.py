"""Helpers shared by the end-to-end and compat tests: the binaries under
test, a busybox rootfs, bundles, berth-runtime with a private root, and the
leak checks (cgroups, mounts)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("BERTH_BIN", REPO / "build" / "bin"))
BUSYBOX = "/bin/busybox"


def make_busybox_rootfs(rootfs: Path):
    """A rootfs from Debian's busybox-static: the binary and a link per applet."""
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            os.symlink("busybox", rootfs / "bin" / applet)
    for d in ("etc", "tmp", "proc", "sys", "dev", "root", "var"):
        (rootfs / d).mkdir(exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\ntty:x:5:\nnogroup:x:65534:\n")


class Bundle:
    """An OCI bundle: rootfs plus config.json, editable as a dict."""

    def __init__(self, path: Path, config: dict):
        self.path = path
        self.rootfs = path / "rootfs"
        self.config = config

    def command(self, *args):
        self.config["process"]["args"] = list(args)
        return self

    def write(self):
        (self.path / "config.json").write_text(json.dumps(self.config))
        return self


class Runtime:
    """berth-runtime with a private state root."""

    def __init__(self, root: Path):
        self.root = root
        self.binary = str(BIN / "berth-runtime")

    def __call__(self, *args, timeout=60, check=False):
        # Output goes to files, not pipes: a created container keeps the
        # runtime's stdio open, so a pipe would never reach end of file.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            returncode = subprocess.run([self.binary, "--root", str(self.root), *map(str, args)], stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=err, timeout=timeout).returncode
            out.seek(0)
            err.seek(0)
            result = subprocess.CompletedProcess(args, returncode, out.read().decode(), err.read().decode())
        if check and result.returncode != 0:
            raise AssertionError(f"berth-runtime {' '.join(map(str, args))} failed ({result.returncode}): {result.stderr}")
        return result

    def state(self, container_id):
        return json.loads(self("state", container_id, check=True).stdout)

    def ids(self):
        if not self.root.exists():
            return []
        return [d.name for d in self.root.iterdir()]


class Registry:
    """berth-registry serving a directory on a free port of 127.0.0.1."""

    def __init__(self, root: Path, htpasswd: Path = None, tls: tuple = None):
        self.root = root
        self.htpasswd = htpasswd
        self.tls = tls  # (certificate, key)
        self.process = None
        self.port = None

    def start(self):
        argv = [str(BIN / "berth-registry"), "serve", "--addr", "127.0.0.1:0", "--root", str(self.root)]
        if self.htpasswd:
            argv += ["--htpasswd", str(self.htpasswd)]
        if self.tls:
            argv += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.process.stderr.readline()
        assert "on port" in line, line
        self.port = int(line.rsplit(" ", 1)[1])
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def url(self, path):
        return f"{'https' if self.tls else 'http'}://{self.address}{path}"


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1, and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DistributionRegistry:
    """Debian's docker-registry with a config of its own on a free port."""

    def __init__(self, root: Path):
        self.root, self.port, self.process = root, free_port(), None

    def start(self):
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {self.root}/data\n"
                          f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{self.port}\n")
        self.process = subprocess.Popen([shutil.which("docker-registry"), "serve", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: subprocess.run(["curl", "-sf", f"http://{self.address}/v2/"], capture_output=True).returncode == 0)
        return self

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"


def wait_for(condition, timeout=10.0, interval=0.02):
    """Polls condition until it is true; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (AssertionError, json.JSONDecodeError):
            pass
        time.sleep(interval)
    raise AssertionError("condition not met within %.1fs" % timeout)


def cgroup_dirs(cgroup_path: str):
    """Every directory a cgroup path names, in each mounted hierarchy."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        pre, _, post = line.partition(" - ")
        if post.split()[0] in ("cgroup", "cgroup2"):
            mount_point = pre.split()[4]
            candidate = Path(mount_point + cgroup_path)
            if candidate.exists():
                found.append(candidate)
    return found


def processes_mentioning(text: str):
    """Pids of processes whose command line contains text (shims of a data root)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if text in proc.joinpath("cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def mounts_under(path: Path):
    text = Path("/proc/self/mountinfo").read_text()
    return [line for line in text.splitlines() if str(path) in line]




class Daemon:
    """berthd with its own data root and socket, and the berth CLI pointed at it."""

    def __init__(self, root: Path):
        self.root = root
        self.data_root = root / "data"
        self.socket = root / "berth.sock"
        self.log = root / "berthd.log"
        self.process = None

    def start(self):
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab")
        self.process = subprocess.Popen([str(BIN / "berthd"), "--data-root", str(self.data_root), "--socket", str(self.socket)],
                                        stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        wait_for(lambda: self.socket.exists() and self.berth("version").returncode == 0, timeout=10)
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)
        self.process = None

    @property
    def host(self):
        return f"unix://{self.socket}"

    def berth(self, *args, input=None, timeout=60, check=False):
        result = subprocess.run([str(BIN / "berth"), "-H", self.host, *map(str, args)], input=input, capture_output=True,
                                timeout=timeout, text=input is None or isinstance(input, str))
        if check and result.returncode != 0:
            raise AssertionError(f"berth {' '.join(map(str, args))} failed ({result.returncode}): {result.stderr}")
        return result

    def container_ids(self):
        return self.berth("ps", "-aq", "--no-trunc", check=True).stdout.split()

    def remove_all_containers(self):
        """rm -f of every container, as a test's cleanup: nothing may outlive it."""
        ids = self.container_ids()
        if ids:
            self.berth("rm", "-f", *ids, check=True)
        return ids

    def inspect(self, name, template):
        return self.berth("inspect", "-f", template, name, check=True).stdout.strip()

    def import_busybox(self, name="busybox:latest"):
        subprocess.run([str(REPO / "tests" / "images" / "busybox.sh"), str(BIN / "berth"), name], check=True,
                       env=dict(os.environ, BERTH_FLAGS=f"-H {self.host}"), capture_output=True)


class Terminal:
    """A command on a pseudo-terminal, driven as a user would type."""

    def __init__(self, argv):
        import pty
        self.master, slave = pty.openpty()
        self.resize(30, 100)
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                                        preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0))
        os.close(slave)
        self.output = b""

    def resize(self, rows, cols):
        import fcntl
        import struct
        import termios
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, text):
        os.write(self.master, text.encode() if isinstance(text, str) else text)

    def expect(self, pattern, timeout=10.0):
        """Reads until the output (so far) matches the regex pattern."""
        import re
        import select
        deadline = time.monotonic() + timeout
        while not re.search(pattern.encode(), self.output):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not seen in {self.output!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{pattern!r} not seen before the end: {self.output!r}")
                self.output += chunk

    def wait(self, timeout=10.0):
        code = self.process.wait(timeout=timeout)
        os.close(self.master)
        return code
