"""pit_plugin: write pit plugins in Python: reward formulations, RL
algorithms and curriculum strategies.

A plugin is a class with a name, a version, a config schema and the
methods of its kind; pit_plugin.serve does the rest (go-plugin handshake
over mutual TLS on a private Unix socket, gRPC health, go-plugin's
controller Shutdown, the host's model service through go-plugin's broker,
config decoding):

    import pit_plugin
    from pit_plugin import Field, Score

    class Mine(pit_plugin.Reward):
        name, version = "mine", "0.1.0"
        needs_learned_model = True
        config = [Field("scale", "float", 1.0, "reward multiplier")]

        def configure(self, cfg, seed):
            self.scale = cfg["scale"]

        def comparisons(self, pairs): ...
        def score(self, items, models):
            r = models.score("reward", items)
            return Score([self.scale * x for x in r])

    if __name__ == "__main__":
        pit_plugin.serve(Mine())

pit_plugin.Algorithm and pit_plugin.Curriculum are the bases of the other
two kinds. See docs/python-plugins.md.
"""

import os as _os
import sys as _sys

from . import _deps

# Without grpc nothing below works: say so clearly (naming this
# interpreter) before a host sees a garbled handshake.
_deps.require_grpc()

# The generated stubs import each other by their .proto paths
# ("from pit.plugin.v1 import plugin_pb2"); make that root importable.
_gen = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "_proto")
if _gen not in _sys.path:
    _sys.path.append(_gen)

from .config import ConfigError, Field, decode_config  # noqa: E402
from .types import (  # noqa: E402
    KL_K1, KL_K3, SOURCE_DATA_CHOSEN, SOURCE_DATA_REJECTED, SOURCE_POLICY, SOURCE_SELF, SOURCES,
    AdvantagesRequest, AdvantagesResponse, Comparison, Comparisons, Input, Knobs, NextRequest,
    NextResponse, Pair, Score)
from .reward import Reward  # noqa: E402
from .algorithm import Algorithm  # noqa: E402
from .curriculum import Curriculum  # noqa: E402
from .server import ModelService, log, serve  # noqa: E402

__all__ = ["Reward", "Algorithm", "Curriculum", "Field", "ConfigError", "decode_config",
           "Input", "Pair", "Comparison", "Comparisons", "Score",
           "Knobs", "KL_K1", "KL_K3", "AdvantagesRequest", "AdvantagesResponse",
           "NextRequest", "NextResponse", "SOURCES", "SOURCE_DATA_REJECTED", "SOURCE_DATA_CHOSEN",
           "SOURCE_POLICY", "SOURCE_SELF", "ModelService", "serve", "log"]
