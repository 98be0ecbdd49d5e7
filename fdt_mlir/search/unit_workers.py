"""Units lowered in worker processes, several at once.

Lowering a unit (unit_lowering) is nearly all of a search's time, and the
units a search asks for together are independent: the kernels of the
model, and the candidates of one buffer that the search would lower next.
Each worker (`python -m fdt_mlir.search.unit_workers`) has its own MLIR
context and the model's bytecode, and lowers a unit exactly as this process
would, so results never depend on the number of workers. Workers are new
interpreters, not forks (a forked MLIR context would inherit its parent's
threads' locks), started without multiprocessing, which would import the
caller's main script again in each of them. Requests and answers are
pickles on the workers' stdin and stdout, one request per worker at a time.
"""

import os
import pickle
import selectors
import signal
import subprocess
import sys
from pathlib import Path

from ..errors import FdtError
from .unit_lowering import Signature, lower_or_error


def available_cpus() -> int:
    """The CPUs this process may run on: the default number of workers."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class UnitWorkers:
    """`jobs` worker processes for one model's units, started on first use."""

    def __init__(self, jobs: int, bytecode: bytes, overlap: bool):
        self.jobs, self._bytecode, self._overlap = jobs, bytecode, overlap
        self._workers = []

    def lower(self, units: list) -> list[Signature | FdtError]:
        """The signatures of `units`, (Cut, Path or None) pairs, in order,
        or the error that lowering one raised; each idle worker takes the
        next unit."""
        if not self._workers:
            self._start()
        found = [None] * len(units)
        waiting = list(enumerate(units))[::-1]
        busy = {}
        with selectors.DefaultSelector() as selector:
            for worker in self._workers:
                if waiting:
                    busy[worker] = self._send(worker, waiting.pop())
                    selector.register(worker.stdout, selectors.EVENT_READ, worker)
            while busy:
                for key, _ in selector.select():
                    worker = key.data
                    found[busy.pop(worker)] = _answer(worker)
                    if waiting:
                        busy[worker] = self._send(worker, waiting.pop())
                    else:
                        selector.unregister(worker.stdout)
        return found

    def close(self):
        """Stops the workers at once: nothing they hold is needed any more."""
        for worker in self._workers:
            worker.kill()
            worker.wait()
            worker.stdin.close()
            worker.stdout.close()
        self._workers = []

    def _start(self):
        # The package as this process imports it, installed or not.
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        for _ in range(self.jobs):
            worker = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": path},
            )
            pickle.dump((self._bytecode, self._overlap), worker.stdin)
            self._workers.append(worker)

    @staticmethod
    def _send(worker, job) -> int:
        number, unit = job
        pickle.dump(unit, worker.stdin)
        worker.stdin.flush()
        return number


def _answer(worker):
    try:
        answer = pickle.load(worker.stdout)
    except EOFError:
        raise RuntimeError(f"a unit worker stopped (exit status {worker.wait()})") from None
    if isinstance(answer, BaseException) and not isinstance(answer, FdtError):
        raise answer
    return answer


def _serve():
    """A worker: the model, then (Cut, Path or None) pairs until its stdin
    closes. Its own stdout is stderr: passes print nothing into answers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops its workers
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    from ..dialect import make_context

    bytecode, overlap = pickle.load(requests)
    context = make_context()
    while True:
        try:
            cut, path = pickle.load(requests)
        except EOFError:
            return
        try:
            answer = lower_or_error(context, bytecode, cut, path, overlap)
        except Exception as error:  # an internal error: the parent raises it
            answer = RuntimeError(f"{type(error).__name__}: {error}")
        try:
            pickle.dump(answer, answers)
            answers.flush()
        except BrokenPipeError:  # the compiler stopped (Ctrl-C) before it took the answer
            return


if __name__ == "__main__":
    _serve()
