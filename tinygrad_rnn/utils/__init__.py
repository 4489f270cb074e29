"""Utilities outside the teaching core: ``tr.utils.data`` (datasets, samplers, loaders)."""

from . import data

__all__ = ["data"]
