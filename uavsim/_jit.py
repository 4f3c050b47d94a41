"""The one JIT policy for uavsim's numba kernels.

- ``cache=True`` keeps compiled code between runs; ``nogil=True`` lets threads run kernels side by side.
- No fastmath: NaN means "unknown terrain" and must propagate through every safety computation, and
  contraction (FMA) or reassociation would move points that lie exactly on a DEM edge across it, so the
  kernels would disagree with their plain-Python twins on the boundary cases the tests probe.
- ``error_model="numpy"`` drops Python's zero-division checks from hot loops: a division by zero gives
  inf/NaN, which the NaN policy already treats as unknown.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numba

_DEFAULTS: dict[str, Any] = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}


def njit(fn: Callable | None = None, **options: Any) -> Any:
    """numba.njit with the project's policy; usable bare (``@njit``) or with options (``@njit(inline=...)``)."""
    opts = {**_DEFAULTS, **options}
    return numba.njit(**opts) if fn is None else numba.njit(**opts)(fn)


def njit_parallel(fn: Callable) -> Any:
    """A kernel whose outer ``prange`` loop runs on all numba threads."""
    return numba.njit(parallel=True, **_DEFAULTS)(fn)


def njit_serial(fn: Callable) -> Any:
    """The serial twin of a ``prange`` kernel (``prange`` is ``range`` here), compiled from a copy of the
    function under its own name: numba's on-disk cache is keyed by the function's name, not by its options, so
    the twin of the same function would otherwise load the threaded machine code (and, in a forked child,
    be terminated by the threading layer)."""
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial", fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_serial"
    twin.__module__ = fn.__module__
    return numba.njit(**_DEFAULTS)(twin)
