"""pit_plugin: write pit plugins in Python.

A reward formulation is a class with a name, a version, a config schema
and three methods; pit_plugin.serve does the rest (go-plugin handshake,
gRPC health, the host's model service through go-plugin's broker, config
decoding, graceful shutdown):

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

See docs/python-plugins.md.
"""

import os as _os
import sys as _sys

# The generated stubs import each other by their .proto paths
# ("from pit.plugin.v1 import plugin_pb2"); make that root importable.
_gen = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "_proto")
if _gen not in _sys.path:
    _sys.path.append(_gen)

from .config import ConfigError, Field, decode_config  # noqa: E402
from .types import Comparison, Comparisons, Input, Pair, Score  # noqa: E402
from .reward import Reward  # noqa: E402
from .server import ModelService, log, serve  # noqa: E402

__all__ = ["Reward", "Field", "ConfigError", "decode_config", "Input", "Pair", "Comparison",
           "Comparisons", "Score", "ModelService", "serve", "log"]
