"""run -it, attach and detach, driven through a pseudo-terminal."""

import re

from berthtest import BIN, Terminal, wait_for


def berth_on_terminal(daemon, *args):
    return Terminal([str(BIN / "berth"), "-H", daemon.host, *args])


def test_run_it_gives_a_shell_on_a_tty_and_its_exit_code(busybox):
    term = berth_on_terminal(busybox, "run", "-it", "--name", "shell", "busybox", "sh")
    term.expect(r"/ # ")
    term.type("tty; echo $((6*7))\r")
    term.expect(r"/dev/pts/\d+\r\n42\r\n")
    term.type("stty size\r")
    term.expect(r"30 100\r\n")
    term.resize(40, 120)  # SIGWINCH: the CLI passes the new size on
    term.type("sleep 0.3; stty size\r")
    term.expect(r"40 120\r\n")
    term.type("exit 5\r")
    assert term.wait() == 5
    assert busybox.inspect("shell", "{{.State.ExitCode}} {{.Config.Tty}}") == "5 true"
    # The tty's output is in the log as typed and echoed.
    assert "42" in busybox.berth("logs", "shell").stdout


def test_detach_with_ctrl_p_ctrl_q_and_attach_again(busybox):
    term = berth_on_terminal(busybox, "run", "-it", "--name", "keeper", "busybox", "sh")
    term.expect(r"/ # ")
    term.type(b"\x10\x11")
    assert term.wait() == 0
    assert busybox.inspect("keeper", "{{.State.Running}}") == "true"
    term = berth_on_terminal(busybox, "attach", "keeper")
    term.type("echo back $((1+1))\r")
    term.expect(r"back 2")
    term.type("exit 3\r")
    assert term.wait() == 3
    wait_for(lambda: busybox.inspect("keeper", "{{.State.Status}}") == "exited")


def test_run_i_without_tty_passes_stdin_through(busybox):
    r = busybox.berth("run", "-i", "--rm", "busybox", "sh", "-c", "tr a-z A-Z; echo done >&2", input="hello\nworld\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "HELLO\nWORLD\n", "done\n")


def test_exec_it(busybox):
    busybox.berth("run", "-d", "--name", "host", "busybox", "sleep", "1000", check=True)
    term = berth_on_terminal(busybox, "exec", "-it", "host", "sh")
    term.expect(r"# ")
    term.type("tty && exit 4\r")
    term.expect(r"/dev/pts/\d+")
    assert term.wait() == 4
