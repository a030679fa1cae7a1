"""Run code in the parent process under the environment the kernels get (warehouse, catalog, config, store)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def environment_set(values: dict[str, str]) -> Iterator[None]:
    """Set `values` in `os.environ` for the block, then restore what was there (or remove what was not)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
