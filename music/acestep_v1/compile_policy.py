"""Whether the v1 DiT runs through torch.compile: the `compile_dit` engine setting.

`true` / `false` are obeyed. `"auto"` (the default) compiles where it was measured to pay: the
full-size DiT on a CPU with a C++ compiler for Inductor's CPU backend (bench_v1_full_size.py: the
bf16 guided step 7-12 % faster, compile once per worker: 10-18 s with Inductor's on-disk cache).
A small DiT (the demo model) compiles for longer than it runs, and no GPU was measured, so
`auto` leaves those eager; `compile_dit=true` turns it on anywhere.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import torch

COMPILE_MIN_WIDTH = 1024  # the full-size DiT is 2560 wide; the demo DiT is tiny
CHOICES = (True, False, "auto")


@dataclass(frozen=True)
class CompileChoice:
    enabled: bool
    reason: str


def parse_compile_setting(value) -> bool | str:
    """The setting as given in engine options (JSON true/false, or "auto")."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "auto"):
        value = {"true": True, "false": False, "auto": "auto"}[value.strip().lower()]
    if value not in CHOICES or (value is not True and value is not False and value != "auto"):
        raise ValueError(f"compile_dit must be true, false or \"auto\", got {value!r}")
    return value


def has_cxx_compiler() -> bool:
    names = [os.environ.get("CXX"), "g++", "c++", "clang++"]
    return any(name and shutil.which(name) for name in names)


def decide(setting: bool | str, *, width: int, device: torch.device | str) -> CompileChoice:
    if setting is True or setting is False:
        return CompileChoice(setting, f"compile_dit={str(setting).lower()}")
    kind = torch.device(device).type
    if kind != "cpu":
        return CompileChoice(False, f"auto: not measured on {kind}; set compile_dit=true to try it")
    if width < COMPILE_MIN_WIDTH:
        return CompileChoice(False, f"auto: a {width}-wide DiT compiles for longer than it runs")
    if not has_cxx_compiler():
        return CompileChoice(False, "auto: no C++ compiler for Inductor's CPU backend (install g++)")
    return CompileChoice(True, "auto: full-size DiT on the CPU")
