"""Local simulator of Adobe CJA's Connections API and IMS token endpoint, quirks included."""

from .config import SimConfig
from .core import Simulator
from .truth import Truth

__all__ = ["SimConfig", "Simulator", "Truth"]
