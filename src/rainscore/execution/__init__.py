"""How every stage that fans out runs its units of work: one :class:`ExecutorConfig`
(``params:execution``) and the workers it names.

- :class:`ExecutorConfig`: ``sequential``, ``threads``, ``processes`` or ``dask``, the
  number of workers, the Dask scheduler and the progress bars; per-stage overrides under
  ``execution.<stage>``.
- :func:`open_executor`: the started workers (:class:`Workers`), with
  :meth:`Workers.map` to run tasks in order with a bounded number in flight.
- :func:`process_pool`: local processes from a clean fork server; each exits when this
  process dies (:mod:`~rainscore.execution.lifeline`), and a script's unguarded top level
  is refused with an explanation (:mod:`~rainscore.execution.main_guard`).
"""

from rainscore.execution.config import EXECUTORS, STAGES, ExecutorConfig
from rainscore.execution.lifeline import exit_with_parent, lifeline
from rainscore.execution.main_guard import check_main_guard, explain_broken_pool
from rainscore.execution.pools import (
    PRELOAD,
    InlineExecutor,
    Workers,
    open_executor,
    process_pool,
)

__all__ = [
    "EXECUTORS",
    "PRELOAD",
    "STAGES",
    "ExecutorConfig",
    "InlineExecutor",
    "Workers",
    "check_main_guard",
    "exit_with_parent",
    "explain_broken_pool",
    "lifeline",
    "open_executor",
    "process_pool",
]
