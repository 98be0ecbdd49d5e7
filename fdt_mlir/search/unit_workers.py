"""Units lowered in worker processes, several at once.

Lowering a unit (unit_lowering) is nearly all of a search's time, and the
units a search asks for together are independent: the kernels of the
model, and the candidates of one buffer that the search would lower next.
Each worker has its own MLIR context and the model's bytecode, and lowers
a unit exactly as this process would, so results never depend on the
number of workers. Workers are spawned, not forked: a forked MLIR context
would inherit its parent's threads' locks.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from ..errors import FdtError
from .unit_lowering import Cut, Signature, lower_or_error

_state = {}  # in a worker: its context, the model's bytecode, the mode


def _start(bytecode: bytes, overlap: bool):
    from ..dialect import make_context

    _state.update(context=make_context(), bytecode=bytecode, overlap=overlap)


def _lower(cut: Cut, path) -> Signature | FdtError:
    return lower_or_error(_state["context"], _state["bytecode"], cut, path, _state["overlap"])


class UnitWorkers:
    """`jobs` worker processes for one model's units, started on first use."""

    def __init__(self, jobs: int, bytecode: bytes, overlap: bool):
        self.jobs, self._bytecode, self._overlap = jobs, bytecode, overlap
        self._pool = None

    def lower(self, units: list) -> list[Signature | FdtError]:
        """The signatures of `units`, (Cut, Path or None) pairs, in order,
        or the error that lowering one raised."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(self._bytecode, self._overlap),
            )
        cuts, paths = zip(*units)
        return list(self._pool.map(_lower, cuts, paths))

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
