"""Studying forward versus reverse mode: Wengert-list traces and timed comparisons."""

from .sweeps import Trace, trace

__all__ = ["Trace", "trace"]
