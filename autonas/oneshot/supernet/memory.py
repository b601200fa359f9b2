"""How much memory a supernet takes, before and while it trains.

A supernet's weights are small (every candidate of every edge, a few MB at search sizes); what
grows is activation memory. Sampling methods (ENAS) keep one candidate per edge alive for the
backward pass, like a single child; DARTS's relaxation (`Edge.relax`) keeps every operation's
output on each edge's mixed input, once per stride run of the states it reads.
`estimate_training_bytes` counts those tensors from the supernet's layout so that a supernet too
large for the machine is refused before training, with the setting to lower.
"""
from __future__ import annotations

import math
import os
import resource

from autonas.space.genotype import NUM_CELL_INPUTS

BYTES_PER_FLOAT = 4
# Tensors an operation keeps for its backward pass, per output-sized tensor: a separable
# convolution stacks two ReLU-conv-conv-BN units (about 8), a pooling 2; this is the upper end,
# so the estimate errs on the side of refusing.
TENSORS_PER_CANDIDATE = 8
# Share of the machine's memory a supernet may plan to use.
MEMORY_SHARE = 0.6


def peak_rss_mb():
    """Peak resident memory of this process so far, in MiB (Linux reports `ru_maxrss` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def available_bytes():
    """Memory the machine can still give: `MemAvailable` of /proc/meminfo, else physical memory."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def estimate_training_bytes(supernet, batch_size, *, mixture):
    """Bytes one training step of `supernet` needs: weights, their gradients and optimizer
    slots, plus the activations kept for the backward pass.

    Args:
        supernet: a `Supernet`.
        batch_size: samples per step.
        mixture: True for DARTS's relaxation (every operation on each edge's mixed input, per
            stride run), False for one sampled child per step (ENAS).
    """
    num_ops = len(supernet.space.operations)
    blocks = supernet.space.num_blocks
    spatial = list(supernet.frontend.outputs[0].shape[1:-1])
    size = math.prod(int(s) for s in spatial)
    elements = 0
    for placement, cell in zip(supernet.placements, supernet.cells):
        if placement.reduction:
            size //= 2 ** len(spatial)
        per_state = size * placement.filters
        edges = [edge for pair in cell.edges for edge in pair]
        if mixture:  # each run's mixed input, and every operation on it
            runs = sum(len(edge.runs) for edge in edges)
            candidates, mixed_inputs = runs * num_ops, runs
        else:
            candidates, mixed_inputs = len(edges), 0
        elements += per_state * (candidates * TENSORS_PER_CANDIDATE + mixed_inputs + NUM_CELL_INPUTS + blocks)
    weights = supernet.count_params() * BYTES_PER_FLOAT * 4  # weights, gradients, two optimizer slots
    return weights + int(batch_size) * elements * BYTES_PER_FLOAT


def check_fits(supernet, batch_size, *, mixture, method):
    """Raise MemoryError, naming the settings to lower, when training would not fit in memory.

    Returns:
        The estimate, in bytes.
    """
    needed = estimate_training_bytes(supernet, batch_size, mixture=mixture)
    budget = available_bytes() * MEMORY_SHARE
    if needed > budget:
        raise MemoryError(
            f"The {method} supernet would need about {needed / 2**30:.1f} GiB to train at batch_size={batch_size}, "
            f"more than {MEMORY_SHARE:.0%} of the {available_bytes() / 2**30:.1f} GiB available. Lower batch_size, "
            "search_filters, num_blocks or the number of operations, or use oracle='enas' (one child per step).")
    return needed
