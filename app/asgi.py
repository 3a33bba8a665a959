"""The ASGI entry point for uvicorn and other servers."""

import gc

from app.main import create_app

app = create_app()

# What is imported and built by now lives as long as the process. Frozen, it is no longer
# traversed by each full collection: the first one under load took 90-100 ms with the loop
# blocked, the p99 of every request in flight (docs/benchmarks.md); now they take ~5 ms.
gc.collect()
gc.freeze()

# A request allocates a few thousand objects, nearly all freed by their reference counts; the
# default threshold (700) ran a young collection every few hundred, 9% of a list's
# instructions (callgrind: 1.31 M a request at 700, 1.19 M at 100,000). What waits for a
# collection is only cyclic garbage, a few requests' worth.
gc.set_threshold(100_000, 10, 10)
