"""fdt-opt-mlir in a child process forked from a warm server, for tests.

The tiling tests compile each model in a child process, so that a crash of
the compiler (a segfault in MLIR, say) fails that test only. Starting
Python and importing MLIR and the compiler costs more than most of those
compiles (0.7 s against 0.5 s for a small network). So each test process
starts one server (`python -m fdt_mlir.testing.driver_process`) that
imports the driver once and forks a child per compile, as isolated as a new
process. The server never runs MLIR itself, so no thread is lost across the
fork. Requests and answers are JSON lines on its stdin and stdout.
"""

import json
import os
import subprocess
import sys
import tempfile
import traceback

_server = None


def run_driver(argv: list[str]) -> tuple[int, str]:
    """(exit status, what it printed on stdout and stderr) of
    `fdt-opt-mlir argv`, run in this process's environment and directory;
    a negative status is the signal that killed it."""
    global _server
    if _server is None or _server.poll() is not None:
        command = [sys.executable, "-m", "fdt_mlir.testing.driver_process"]
        _server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log")
        request = {"argv": list(argv), "environ": dict(os.environ), "cwd": os.getcwd(), "log": log}
        _server.stdin.write(json.dumps(request) + "\n")
        _server.stdin.flush()
        status = json.loads(_server.stdout.readline())
        with open(log) as f:
            return status, f.read()


def _serve():
    from ..cli.fdt_opt_mlir import main
    from ..passes import load_all

    load_all()  # what every compile imports first

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            status = 1  # an exception main lets through: its traceback is in the log
            try:
                status = _compile(main, request)
            except BaseException:
                traceback.print_exc()
            finally:  # the child never returns into the server's loop
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        _, wait_status = os.waitpid(pid, 0)
        sys.stdout.write(json.dumps(os.waitstatus_to_exitcode(wait_status)) + "\n")
        sys.stdout.flush()


def _compile(main, request) -> int:
    os.environ.clear()
    os.environ.update(request["environ"])
    os.chdir(request["cwd"])
    fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        return main(request["argv"])
    except SystemExit as e:  # argparse's own usage errors
        return e.code if isinstance(e.code, int) else 1


if __name__ == "__main__":
    _serve()
