#!/usr/bin/env python3
"""clipped-difference-py: the Go example reward plugin
(plugins/examples/clipped-difference) written in Python.

    reward = clip(r(x, y) - r(x, y_ref), -clip, +clip)

where r is the Bradley-Terry model the host trains on this plugin's
comparisons. Name it by path in an experiment file:

    [stages.pit_rl.plugins.reward]
    path = "python/examples/clipped_difference.py"
    [stages.pit_rl.plugins.reward.config]
    clip = 0.5
"""

import os
import sys

# Find pit_plugin in python/, next to this file's directory, when it is not
# installed. pit runs a private copy of the file it names (the bytes it
# hashed) and passes the original's path in PIT_PLUGIN_SOURCE.
for _f in (os.path.abspath(__file__), os.environ.get("PIT_PLUGIN_SOURCE", "")):
    _root = os.path.join(os.path.dirname(_f), "..")
    if _f and os.path.isdir(os.path.join(_root, "pit_plugin")):
        sys.path.insert(0, _root)
        break

import pit_plugin  # noqa: E402
from pit_plugin import Comparison, Comparisons, ConfigError, Field, Input, Score  # noqa: E402


class ClippedDifference(pit_plugin.Reward):
    name = "clipped-difference-py"
    version = "1.0.0"
    summary = "clip(r(x,y) − r(x,y_ref)), in Python"
    needs_learned_model = True
    reference_conditioned = True
    config = [Field("clip", "float", 1.0, "largest reward magnitude")]

    def __init__(self):
        self.clip = 1.0

    def configure(self, cfg, seed):
        if cfg["clip"] <= 0:
            raise ConfigError(f'key "clip": expected a number > 0 (got {cfg["clip"]:g})')
        self.clip = cfg["clip"]
        pit_plugin.log("info", "configured", clip=self.clip)

    def comparisons(self, pairs):
        # The learned model is a plain Bradley-Terry r(x, y).
        out = Comparisons()
        for i, p in enumerate(pairs):
            out.inputs += [Input(p.prompt, (), p.chosen), Input(p.prompt, (), p.rejected)]
            out.comparisons.append(Comparison(better=2 * i, worse=2 * i + 1))
        return out

    def score(self, items, models):
        n = len(items)
        # Responses, then references: one model call.
        batch = [Input(it.prompt, (), it.response) for it in items]
        batch += [Input(it.prompt, (), it.reference) for it in items]
        r = models.score("reward", batch)
        diff = [r[i] - r[n + i] for i in range(n)]
        rewards = [max(-self.clip, min(self.clip, d)) for d in diff]
        return Score(rewards, {"difference": diff})


if __name__ == "__main__":
    pit_plugin.serve(ClippedDifference())
