"""Slow reads (text search, as_of) run in a few worker threads; one that waits too long for
its turn is refused with 503 and Retry-After instead of piling up work nobody waits for."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from app.config import Settings
from app.db import in_worker_thread
from app.errors import ServiceUnavailable


def test_slow_reads_wait_their_turn_then_get_503() -> None:
    release = threading.Event()
    results: list[str] = []

    def slow() -> str:
        release.wait(10)
        return "done"

    async def scenario() -> None:
        limiter = anyio.CapacityLimiter(2)
        state = SimpleNamespace(slow_reads=limiter, settings=Settings(slow_read_wait_s=0.3))
        request: Any = SimpleNamespace(app=SimpleNamespace(state=state))

        async def read() -> None:
            results.append(await in_worker_thread(request, slow))

        async with anyio.create_task_group() as group:
            for _ in range(2):  # both threads busy
                group.start_soon(read)
            await anyio.sleep(0.1)
            with pytest.raises(ServiceUnavailable) as refused:
                await in_worker_thread(request, slow)  # waited 0.3 s for a thread
            assert refused.value.headers["Retry-After"] == "1"
            group.start_soon(read)  # this one gets a thread as soon as one is free
            await anyio.sleep(0.1)
            release.set()
        # nothing that was let in is lost, and every thread was given back
        assert results == ["done"] * 3
        assert limiter.borrowed_tokens == 0

    anyio.run(scenario)
