"""Create's adapter choice: a library LoRA adapter of the chosen engine and its weight.

The Train page's "Try it on Create" writes `create-adapter` / `create-adapter-weight` into the
session, so Create opens with the new adapter picked and the weight slider ready."""

from __future__ import annotations

import streamlit as st

NONE = "(none)"
WEIGHT_RANGE = (-3.0, 3.0)


def adapter_names(s, engine: str) -> list[str]:
    return [row.name for row in s.adapters.list(engine=engine)]


def adapter_controls(s, engine: str) -> None:
    """Adapter selectbox + weight slider (keyed; read back with `chosen_adapter`)."""
    names = adapter_names(s, engine)
    if st.session_state.get("create-adapter") not in (NONE, *names):
        st.session_state["create-adapter"] = NONE
    st.session_state.setdefault("create-adapter-weight", 1.0)
    c1, c2 = st.columns(2)
    c1.selectbox("Adapter (LoRA)", [NONE, *names], key="create-adapter",
                 help="An adapter you trained on the Train page, for this engine")
    c2.slider("Adapter weight", *WEIGHT_RANGE, step=0.05, key="create-adapter-weight")


def chosen_adapter() -> tuple[str | None, float]:
    name = st.session_state.get("create-adapter", NONE)
    return (None if name in (None, NONE) else name), float(st.session_state.get("create-adapter-weight", 1.0))


def try_on_create(name: str, engine: str, weight: float = 1.0) -> None:
    st.session_state["create-adapter"] = name
    st.session_state["create-adapter-weight"] = weight
    st.session_state["create-engine"] = engine
