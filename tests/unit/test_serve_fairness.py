"""`dd0c-cost serve`'s fairness: requests of one worker are resolved in the order they were read
(``FairLock``), and worker processes take connections in turn (``Balance``: a worker accepts only while
no other has fewer). The spread over real worker processes: tests/integration/test_serve_concurrency.py."""

from __future__ import annotations

import threading
import time

from dd0c_cost_tools.local.serve import Balance, FairLock


def _until(condition) -> None:
    deadline = time.monotonic() + 60  # generous: only a broken lock waits this long
    while not condition():
        assert time.monotonic() < deadline, "a thread never queued for the lock"
        time.sleep(0.001)


def _take(lock: FairLock, order: list, name) -> threading.Thread:
    def run() -> None:
        with lock:
            order.append(name)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_the_lock_is_handed_over_in_the_order_it_was_asked_for():
    lock, order, threads = FairLock(), [], []
    with lock:
        for n in range(8):
            threads.append(_take(lock, order, n))
            _until(lambda n=n: len(lock._waiting) == n + 1)  # thread n waits before thread n + 1 starts
    for thread in threads:
        thread.join(60)
    assert order == list(range(8))


def test_a_thread_arriving_as_the_lock_is_released_waits_behind_those_already_waiting():
    lock, order = FairLock(), []
    lock.__enter__()
    waiting = _take(lock, order, "waiting")
    _until(lambda: len(lock._waiting) == 1)
    lock.__exit__(None, None, None)  # handed to the waiting thread, which may not have run yet
    late = _take(lock, order, "late")
    waiting.join(60)
    late.join(60)
    assert order == ["waiting", "late"]
    with lock:  # free again
        assert not lock._waiting


def test_a_worker_accepts_only_while_no_serving_worker_has_fewer_connections():
    balance = Balance(3)
    balance.index = 0
    assert list(balance.counts) == [Balance.NOT_SERVING] * 3
    balance.serving(True)
    balance.add(2)
    assert balance.may_accept()  # the others are still starting: they are never the ones with fewer
    balance.counts[1] = 0  # worker 1 serves, with no connection yet
    assert not balance.may_accept()
    balance.counts[1] = 2
    assert balance.may_accept()  # as many: either may take the next one
    balance.add(-1)
    balance.counts[2] = 1
    assert balance.may_accept()
    balance.serving(False)  # a stopped worker is never waited for
    balance.index = 1
    assert not balance.may_accept()
    balance.counts[2] = 2
    assert balance.may_accept()
