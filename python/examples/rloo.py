#!/usr/bin/env python3
"""rloo-py: pit's built-in RLOO algorithm (plugins/algorithm/rloo) written
in Python, step for step, so that it gives bit-for-bit the same advantages.

k samples per prompt; sample i's advantage on every token is
    A_i = R_i − (Σ_j R_j − R_i)/(k − 1),  R = reward − β·Σ_t (log π − log π_ref)

Name it by path in an experiment file:

    [stages.rlhf.algorithm]
    path = "python/examples/rloo.py"
    [stages.rlhf.algorithm.config]
    k = 4
"""

import math
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
from pit_plugin import AdvantagesResponse, ConfigError, Field, Knobs  # noqa: E402


class RLOO(pit_plugin.Algorithm):
    name = "rloo-py"
    version = "1.0.0"
    summary = "RLOO in Python: k samples per prompt, leave-one-out baseline, KL penalty in the reward"
    config = [
        Field("k", "int", 4, "samples per prompt (≥ 2)"),
        Field("kl_coef", "float", 0.05, "β of the per-token KL penalty in the reward"),
        Field("whiten", "bool", False, "whiten advantages over the batch's tokens"),
        Field("clip_range", "float", 0.2, "policy ratio clip ε (matters when epochs > 1)"),
        Field("epochs", "int", 1, "optimisation passes over each batch"),
    ]

    def __init__(self):
        self.k, self.kl_coef, self.whiten, self.clip_range, self.epochs = 4, 0.05, False, 0.2, 1

    def configure(self, cfg, seed):
        problems = []
        if cfg["k"] < 2:
            problems.append(f'key "k": must be ≥ 2 (a leave-one-out baseline needs another sample), got {cfg["k"]}')
        if cfg["kl_coef"] < 0:
            problems.append(f'key "kl_coef": expected a number ≥ 0 (got {cfg["kl_coef"]:g})')
        if cfg["clip_range"] <= 0:
            problems.append(f'key "clip_range": expected a number > 0 (got {cfg["clip_range"]:g})')
        if cfg["epochs"] < 1:
            problems.append(f'key "epochs": expected an integer ≥ 1 (got {cfg["epochs"]})')
        if problems:
            raise ConfigError(problems)
        self.k, self.kl_coef, self.whiten = cfg["k"], cfg["kl_coef"], cfg["whiten"]
        self.clip_range, self.epochs = cfg["clip_range"], cfg["epochs"]

    def knobs(self):
        return Knobs(clip_range=self.clip_range, kl_coef=self.kl_coef, kl_estimator=pit_plugin.KL_K1,
                     epochs=self.epochs, samples_per_prompt=self.k)

    def advantages(self, req):
        if not req.groups:
            raise ValueError("rloo-py: the batch has no group ids")
        b = len(req.rewards)
        if b == 0:
            raise ValueError("rloo-py: empty batch: no rewards")
        # The response tokens of each sequence (where the mask is set).
        seqs = []
        for i in range(b):
            pos = [j for j, m in enumerate(req.mask[i]) if m > 0.5]
            if not pos:
                raise ValueError(f"rloo-py: sequence {i}: no response tokens")
            lp = [req.logprobs[i][j] for j in pos]
            ref = [req.ref_logprobs[i][j] for j in pos]
            if not all(math.isfinite(x) for x in lp + ref + [req.rewards[i]]):
                raise ValueError(f"rloo-py: sequence {i}: a number is not finite")
            kl = 0.0
            for t in range(len(lp)):
                kl += lp[t] - ref[t]
            seqs.append((pos, kl))
        groups = {}
        for i, g in enumerate(req.groups):
            groups.setdefault(g, []).append(i)  # dicts keep first-appearance order
        adv = [None] * b
        ret = [None] * b
        for g, members in groups.items():
            if len(members) != self.k:
                raise ValueError(f"rloo-py: group {g} has {len(members)} samples, want k = {self.k}")
            r = [req.rewards[i] - self.kl_coef * seqs[i][1] for i in members]
            total = 0.0
            for x in r:
                total += x
            for j, i in enumerate(members):
                a = r[j] - (total - r[j]) / (len(members) - 1)
                adv[i] = [a] * len(seqs[i][0])
                ret[i] = [r[j]] * len(seqs[i][0])
        if self.whiten:
            _whiten(adv)
        mean_kl = 0.0
        for _, kl in seqs:
            mean_kl += kl
        mean_kl /= b
        # Back to the padded [B][T] shape, zero off the mask.
        out_adv, out_ret = [], []
        for i, (pos, _) in enumerate(seqs):
            a, r = [0.0] * len(req.mask[i]), [0.0] * len(req.mask[i])
            for k, j in enumerate(pos):
                a[j], r[j] = adv[i][k], ret[i][k]
            out_adv.append(a)
            out_ret.append(r)
        return AdvantagesResponse(out_adv, out_ret, self.knobs(), {"kl": mean_kl})


def _whiten(rows):
    """Mean 0 and (population) standard deviation 1 over every token."""
    total, n = 0.0, 0.0
    for row in rows:
        for v in row:
            total += v
            n += 1
    if n == 0:
        return
    mean = total / n
    ss = 0.0
    for row in rows:
        for v in row:
            ss += (v - mean) * (v - mean)
    std = math.sqrt(ss / n)
    scale = 1 / std if std > 1e-8 else 1.0
    for row in rows:
        for i in range(len(row)):
            row[i] = (row[i] - mean) * scale


if __name__ == "__main__":
    pit_plugin.serve(RLOO())
