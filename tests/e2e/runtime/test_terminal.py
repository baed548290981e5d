"""A terminal through --console-socket: the pty master arrives by SCM_RIGHTS."""

import fcntl
import os
import pty
import select
import socket
import struct
import subprocess
import termios
import threading
import time

from berthtest import wait_for


class ConsoleSocket:
    """A unix socket that receives one pty master, as podman's conmon does."""

    def __init__(self, path):
        self.path = str(path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(1)
        self.master = None
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        conn, _ = self.server.accept()
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
            self.master = fds[0]

    def read_all(self):
        out = b""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO once the last slave fd closes
                break
            if not chunk:
                break
            out += chunk
        return out.decode()

    def close(self):
        self.server.close()
        if self.master is not None:
            os.close(self.master)


def test_terminal_through_console_socket(runtime, bundle, container_id, tmp_path):
    bundle.config["process"]["terminal"] = True
    bundle.config["process"]["consoleSize"] = {"height": 33, "width": 101}
    bundle.command("sh", "-c", "tty; stty size; test -t 0 && echo stdin-is-a-tty; ls -l /dev/console").write()
    console = ConsoleSocket(tmp_path / "console.sock")
    try:
        runtime("create", "--bundle", bundle.path, "--console-socket", console.path, container_id, check=True)
        console.thread.join(5)
        assert console.master is not None, "no pty master received"
        runtime("start", container_id, check=True)
        output = console.read_all().replace("\r\n", "\n").splitlines()
        assert output[0] == "/dev/pts/0"
        assert output[1] == "33 101"
        assert output[2] == "stdin-is-a-tty"
        assert output[3].startswith("crw")
        wait_for(lambda: runtime.state(container_id)["status"] == "stopped")
    finally:
        console.close()


def test_terminal_input_reaches_the_process(runtime, bundle, container_id, tmp_path):
    bundle.config["process"]["terminal"] = True
    bundle.command("sh", "-c", "read line; echo got:$line").write()
    console = ConsoleSocket(tmp_path / "console.sock")
    try:
        runtime("create", "--bundle", bundle.path, "--console-socket", console.path, container_id, check=True)
        console.thread.join(5)
        runtime("start", container_id, check=True)
        os.write(console.master, b"hello\n")
        assert "got:hello" in console.read_all()
    finally:
        console.close()


def test_terminal_without_console_socket_is_an_error_for_create(runtime, bundle, container_id):
    bundle.config["process"]["terminal"] = True
    bundle.command("true").write()
    result = runtime("create", "--bundle", bundle.path, container_id)
    assert result.returncode == 1
    assert "--console-socket is required" in result.stderr
    assert runtime.ids() == []


def run_under_pty(argv, send=b"", timeout=10):
    """Runs argv with a pty as its stdio, as a user's terminal; returns (status, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    if send:
        os.write(master, send)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=timeout), output.decode(errors="replace").replace("\r\n", "\n")


def test_run_with_terminal_in_the_foreground_proxies_the_users_terminal(runtime, bundle, container_id):
    bundle.config["process"]["terminal"] = True
    bundle.command("sh", "-c", "tty; read line; echo got:$line; exit 5").write()
    status, output = run_under_pty([runtime.binary, "--root", str(runtime.root), "run", "--bundle", str(bundle.path), container_id],
                                   send=b"typed\n")
    assert status == 5
    assert "/dev/pts/0" in output
    assert "got:typed" in output
    assert runtime.ids() == []


def test_exec_with_tty(runtime, bundle, container_id):
    bundle.command("sleep", "600").write()
    runtime("run", "--detach", "--bundle", bundle.path, container_id, check=True)
    status, output = run_under_pty([runtime.binary, "--root", str(runtime.root), "exec", "-t", container_id,
                                    "sh", "-c", "tty; stty size; exit 3"])
    assert status == 3
    lines = output.splitlines()
    assert lines[0].startswith("/dev/pts/")
    assert lines[1] == "40 120"  # the caller's window size
