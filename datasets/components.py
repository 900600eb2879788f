"""Typed registry entries shared by adapters, generators and split methods."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Base for component parameter models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


@dataclass(frozen=True)
class Component:
    name: str
    tasks: tuple[str, ...]
    params_model: type[Params]
    fn: Callable[..., Any]
