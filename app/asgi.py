"""The ASGI entry point for uvicorn and other servers."""

import gc

from app.main import create_app

app = create_app()

# What is imported and built by now lives as long as the process. Frozen, it is no longer
# traversed by each full collection: the first one under load took 90-100 ms with the loop
# blocked, the p99 of every request in flight (docs/benchmarks.md); now they take ~5 ms.
gc.collect()
gc.freeze()
