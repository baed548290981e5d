"""berth starts berthd itself when run as root and nothing answers on the
default socket. Run in private mount and pid namespaces, with tmpfs over the
default paths: the machine's own /run/berth and /var/lib/berth are untouched,
only this test's berthd is visible, and it dies with the namespace whatever
happens."""

import subprocess
from pathlib import Path

from berthtest import BIN

SCRIPT = r"""
set -e
mount -t tmpfs tmpfs /run/berth
mount -t tmpfs tmpfs /var/lib/berth
mount -t tmpfs tmpfs /var/log
unset DOCKER_HOST BERTH_HOST
"$BERTH" images
test -S /run/berth/berth.sock
"$BERTH" version --format '{{.Server.Version}}'
pid=$(pgrep -x berthd)
kill "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
"""


def test_berth_starts_the_daemon_when_none_answers():
    made = []
    for d in (Path("/run/berth"), Path("/var/lib/berth")):
        if not d.exists():
            d.mkdir(parents=True)
            made.append(d)
    try:
        result = subprocess.run(["unshare", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private", "sh", "-c", SCRIPT],
                                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "BERTH": str(BIN / "berth")},
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
        assert lines[-1] == "0.1.0"
    finally:
        for d in reversed(made):
            d.rmdir()
