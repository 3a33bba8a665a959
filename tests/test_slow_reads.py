"""Slow reads (text search, as_of) run in a few worker threads; past a short queue they are
refused at once with 503 and Retry-After instead of piling up work nobody waits for."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from app.db import in_worker_thread
from app.errors import ServiceUnavailable


def test_slow_reads_queue_briefly_then_get_503() -> None:
    release = threading.Event()
    results: list[str] = []

    def slow() -> str:
        release.wait(10)
        return "done"

    async def scenario() -> None:
        limiter = anyio.CapacityLimiter(1)
        request: Any = SimpleNamespace(
            app=SimpleNamespace(state=SimpleNamespace(slow_reads=limiter))
        )

        async def read() -> None:
            results.append(await in_worker_thread(request, slow))

        async with anyio.create_task_group() as group:
            for _ in range(5):  # one runs, four wait: the queue is full
                group.start_soon(read)
            await anyio.sleep(0.2)
            assert limiter.statistics().tasks_waiting == 4
            with pytest.raises(ServiceUnavailable) as refused:
                await in_worker_thread(request, slow)
            assert refused.value.headers["Retry-After"] == "1"
            release.set()
        # and nothing that was let in is lost
        assert results == ["done"] * 5

    anyio.run(scenario)
