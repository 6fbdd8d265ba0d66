#!/usr/bin/env python3
"""policy-ramp-py: a curriculum strategy in Python. The share of
references drawn from the RLHF policy (the rest are data pairs' rejected
responses y_l) ramps linearly from `start` to `end` over the stage; when
the observed reward falls more than `drop` below its best so far, the next
step asks the host to refresh the reward model first.

Its state (the best reward and a pending refresh) goes into checkpoints
through save_state/restore_state, so a resumed or restarted run plans the
same steps. Name it by path in an experiment file:

    [stages.pit_rl.curriculum]
    path = "python/examples/policy_ramp.py"
    [stages.pit_rl.curriculum.config]
    end = 0.75
"""

import json
import os
import sys

# Find pit_plugin in python/ when it is not installed (pit runs a private
# copy of this file and names the original in PIT_PLUGIN_SOURCE).
for _f in (os.path.abspath(__file__), os.environ.get("PIT_PLUGIN_SOURCE", "")):
    _root = os.path.join(os.path.dirname(_f), "..")
    if _f and os.path.isdir(os.path.join(_root, "pit_plugin")):
        sys.path.insert(0, _root)
        break

import pit_plugin  # noqa: E402
from pit_plugin import ConfigError, Field, NextResponse  # noqa: E402


class PolicyRamp(pit_plugin.Curriculum):
    name = "policy-ramp-py"
    version = "1.0.0"
    summary = "policy-sampled references ramp from start to end; refresh the reward model when reward drops"
    config = [
        Field("start", "float", 0.0, "share of policy references at the first step, in [0, 1]"),
        Field("end", "float", 1.0, "share of policy references at the last step, in [0, 1]"),
        Field("drop", "float", 0.5, "reward drop below its best that triggers a refresh (> 0)"),
    ]

    def __init__(self):
        self.start, self.end, self.drop = 0.0, 1.0, 0.5
        self.best = None
        self.refresh = False

    def configure(self, cfg, seed):
        problems = [f'key "{k}": expected a number in [0, 1] (got {cfg[k]:g})'
                    for k in ("start", "end") if not 0 <= cfg[k] <= 1]
        if cfg["drop"] <= 0:
            problems.append(f'key "drop": expected a number > 0 (got {cfg["drop"]:g})')
        if problems:
            raise ConfigError(problems)
        self.start, self.end, self.drop = cfg["start"], cfg["end"], cfg["drop"]
        self.best, self.refresh = None, False

    def next(self, req):
        frac = req.step / (req.total_steps - 1) if req.total_steps > 1 else 1.0
        share = self.start + (self.end - self.start) * min(1.0, frac)
        policy = int(share * req.batch_size + 0.5)
        refresh, self.refresh = self.refresh, False
        return NextResponse(
            counts={pit_plugin.SOURCE_DATA_REJECTED: req.batch_size - policy, pit_plugin.SOURCE_POLICY: policy},
            round=0 if share < 0.5 else 1, phase=f"policy share {share:.2f}", refresh_reward=refresh)

    def observe(self, step, stats):
        reward = stats.get("reward")
        if reward is None:
            return
        if self.best is None or reward > self.best:
            self.best = reward
        elif reward < self.best - self.drop:
            self.refresh = True
            self.best = reward  # start over from the refreshed model

    def save_state(self):
        return json.dumps({"best": self.best, "refresh": self.refresh}).encode()

    def restore_state(self, state):
        s = json.loads(state.decode())
        self.best, self.refresh = s["best"], bool(s["refresh"])


if __name__ == "__main__":
    pit_plugin.serve(PolicyRamp())
