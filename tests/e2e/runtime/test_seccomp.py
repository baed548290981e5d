"""linux.seccomp: rules, errno values and argument conditions."""

EXDEV = 18


def profile(*rules, default="SCMP_ACT_ALLOW"):
    return {"defaultAction": default, "architectures": ["SCMP_ARCH_X86_64"], "syscalls": list(rules)}


def test_a_rule_makes_the_syscall_fail_with_its_errno(runtime, bundle, container_id):
    bundle.config["linux"]["seccomp"] = profile({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": EXDEV})
    bundle.command("sh", "-c", "mkdir /tmp/d; touch /tmp/f && echo touched").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert "Invalid cross-device link" in result.stderr
    assert result.stdout == "touched\n"


def test_argument_conditions_select_calls(runtime, bundle, container_id):
    # Refuse chmod to 0777 only: mode is argument 1 of chmod and 2 of fchmodat.
    bundle.config["linux"]["seccomp"] = profile(
        {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": EXDEV, "args": [{"index": 1, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
        {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": EXDEV, "args": [{"index": 2, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
    )
    bundle.command("sh", "-c", "touch /tmp/f; chmod 755 /tmp/f && echo 755-ok; chmod 777 /tmp/f || echo 777-refused").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.split() == ["755-ok", "777-refused"], result.stderr


def test_default_action_errno_with_an_allow_list(runtime, bundle, container_id):
    allowed = ["execve", "brk", "arch_prctl", "set_tid_address", "exit_group", "write", "getuid", "geteuid", "getpid",
               "rt_sigaction", "rt_sigprocmask", "uname", "getppid", "getcwd", "fstat", "newfstatat", "stat", "ioctl",
               "set_robust_list", "rseq", "prlimit64", "mmap", "munmap", "mprotect", "readlink", "read", "close"]
    bundle.config["linux"]["seccomp"] = profile({"names": allowed, "action": "SCMP_ACT_ALLOW"}, default="SCMP_ACT_ERRNO")
    bundle.config["linux"]["seccomp"]["defaultErrnoRet"] = EXDEV
    bundle.command("sh", "-c", "echo hi; ls /").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.startswith("hi\n")
    assert "Invalid cross-device link" in result.stderr


def test_kill_action_kills_the_process(runtime, bundle, container_id):
    bundle.config["linux"]["seccomp"] = profile({"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"})
    bundle.command("sh", "-c", "echo before; echo $PPID").write()
    # busybox sh calls getppid at start up, so it dies before printing.
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode == 128 + 31  # SIGSYS


def test_bad_profile_is_rejected_at_create(runtime, bundle, container_id):
    bundle.config["linux"]["seccomp"] = profile({"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"})
    bundle.command("true").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.returncode == 1
    assert 'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_EXPLODE"' in result.stderr
    assert runtime.ids() == []


def test_seccomp_leaves_no_new_privs_to_the_process_spec(runtime, bundle, container_id):
    bundle.config["linux"]["seccomp"] = profile({"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"})
    bundle.config["process"]["noNewPrivileges"] = False
    bundle.command("grep", "NoNewPrivs", "/proc/self/status").write()
    result = runtime("run", "--bundle", bundle.path, container_id)
    assert result.stdout.split() == ["NoNewPrivs:", "0"], result.stderr
