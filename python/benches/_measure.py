"""What the binding's benchmarks share: medians of batches (the machine
is small and noisy)."""

import statistics
import time

BATCHES = 15


def median_per_call(fn, batch):
    """Seconds per call of `fn`: the median over BATCHES batches of
    `batch` calls each."""
    samples = []
    for _ in range(BATCHES):
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t) / batch)
    return statistics.median(samples)
