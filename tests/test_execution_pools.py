"""Every executor runs tasks in order with a bounded number in flight."""

from __future__ import annotations

import pytest

from rainscore.execution import ExecutorConfig, InlineExecutor, open_executor


def _square(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x * x


@pytest.mark.parametrize("executor", ["sequential", "threads", "processes"])
def test_results_come_in_the_order_of_the_items(executor: str) -> None:
    with open_executor(ExecutorConfig(executor=executor, workers=2)) as workers:
        assert list(workers.map(_square, range(10), window=3)) == [x * x for x in range(10)]
        assert workers.slots == (1 if executor == "sequential" else 2)


def test_a_local_dask_cluster_of_threads() -> None:
    config = ExecutorConfig(executor="dask", workers=2, dask_processes=False)
    with open_executor(config) as workers:
        assert workers.slots == 2
        assert list(workers.map(_square, range(5))) == [0, 1, 4, 9, 16]


def test_an_error_reaches_the_caller_at_its_item() -> None:
    with open_executor(ExecutorConfig(executor="threads")) as workers:
        results = workers.map(_square, [1, 2, -1, 3])
        assert [next(results), next(results)] == [1, 4]
        with pytest.raises(ValueError, match="negative: -1"):
            next(results)


def test_the_inline_executor_runs_at_submission() -> None:
    calls = []
    future = InlineExecutor().submit(calls.append, 1)
    assert calls == [1]
    assert future.done()
    assert future.result() is None
    failed = InlineExecutor().submit(_square, -2)
    with pytest.raises(ValueError, match="negative: -2"):
        failed.result()
