"""Bucket sums asked again while being made are waited for, not made twice; a sum that
fails is made again by the next to ask; the oldest are let go past ``KEPT``."""

from __future__ import annotations

import threading
import time

import pytest

from wattwise.server.kept_buckets import KEPT, KeptBuckets


def test_two_asks_at_once_sum_once() -> None:
    kept = KeptBuckets()
    made: list[int] = []
    started = threading.Event()

    def sum_now() -> list[int]:
        made.append(1)
        started.set()
        time.sleep(0.2)
        return [42]

    got: list[object] = []
    first = threading.Thread(target=lambda: got.append(kept.get("k", sum_now)))
    first.start()
    assert started.wait(10)
    got.append(kept.get("k", sum_now))  # asked while the first sums
    first.join(10)
    assert made == [1] and got == [[42], [42]]


def test_a_failed_sum_is_made_again_by_the_next_ask() -> None:
    kept = KeptBuckets()

    def broken() -> list[int]:
        raise RuntimeError("database is locked")

    with pytest.raises(RuntimeError):
        kept.get("k", broken)
    assert kept.get("k", lambda: [1]) == [1]
    assert kept.get("k", broken) == [1]  # kept now


def test_the_oldest_are_let_go() -> None:
    kept = KeptBuckets()
    for k in range(KEPT + 1):
        kept.get(k, lambda k=k: [k])
    assert kept.get(0, lambda: ["again"]) == ["again"]
    assert kept.get(KEPT, lambda: ["again"]) == [KEPT]
