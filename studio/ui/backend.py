"""Kept only so that the mint pages' type-checking imports (`studio.ui.provenance_view`,
`studio.ui.minting`) keep resolving until they move onto `studio.service` and `studio.records`
directly. The names here are the service's own objects, not UI copies."""

from studio.records import TakeView
from studio.service import Studio

__all__ = ["Studio", "TakeView"]
