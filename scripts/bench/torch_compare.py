#!/usr/bin/python3
"""PyTorch twin of core/nn's model, for the side-by-side benchmark.

Same architecture and parameter count as core/nn (pre-LayerNorm decoder,
learned positions, fused qkv, GELU-tanh MLP, LM head with an extra value
column, scalar reward head). Measures:

  train   one SFT step (forward, masked-free cross-entropy on every next
          token, backward, AdamW) on batch x context tokens;
  sample  32 sequences x 32 tokens (1-token prompt, 31 new), temperature 1,
          with a key/value cache ("kv") and by full recomputation ("full").

Timings are means over the repeats (compare.sh compares means with means
over the same windows). Output is one "key value" pair per line so
compare.sh can parse it, with the BLAS library threadpoolctl finds (its
kernel architecture and threads) and the process's peak resident set.

Run: scripts/bench/compare.sh (it sets the threads and the OpenBLAS
environment); by hand, e.g. /usr/bin/python3 scripts/bench/torch_compare.py --threads 2
"""
import argparse
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def attend(q, k, v, causal):
    # torch 1.13 (Debian's) has no scaled_dot_product_attention.
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    if causal:
        t, s = att.shape[-2], att.shape[-1]
        mask = torch.ones(t, s, dtype=torch.bool).tril(diagonal=s - t)
        att = att.masked_fill(~mask, float("-inf"))
    return torch.softmax(att, dim=-1) @ v


class Block(nn.Module):
    def __init__(self, d, h, m):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, m)
        self.fc2 = nn.Linear(m, d)

    def split(self, x):
        b, t, d = x.shape
        return x.view(b, t, self.h, d // self.h).transpose(1, 2)

    def forward(self, x, cache=None):
        b, t, d = x.shape
        q, k, v = self.attn(self.ln1(x)).split(d, dim=2)
        q, k, v = self.split(q), self.split(k), self.split(v)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        y = attend(q, k, v, causal=t > 1)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))
        return x


class Model(nn.Module):
    def __init__(self, vocab, context, d, layers, heads, mlp):
        super().__init__()
        self.vocab = vocab
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        self.blocks = nn.ModuleList([Block(d, heads, mlp) for _ in range(layers)])
        self.lnf = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab + 1)  # last column: value head
        self.rm = nn.Linear(d, 1)  # reward head

    def forward(self, ids, pos0=0, caches=None):
        t = ids.shape[1]
        pos = torch.arange(pos0, pos0 + t)
        x = self.wte(ids) + self.wpe(pos)
        for i, blk in enumerate(self.blocks):
            x = blk(x, None if caches is None else caches[i])
        return self.head(self.lnf(x))


def mean_of(fn, repeats, inner):
    """Mean wall time and mean CPU time (process, all threads) per call."""
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeats * inner):
        fn()
    n = repeats * inner
    return (time.perf_counter() - t0) / n, (time.process_time() - c0) / n


def blas_info():
    """The BLAS torch's matrix products may use: library, kernel, threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl missing (apt-get install python3-threadpoolctl)"
    out = []
    for i in threadpool_info():
        out.append(f"{i.get('internal_api')}:{i.get('architecture', '?')}:threads={i.get('num_threads')}")
    return " ".join(out) or "none found"


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--context", type=int, default=32)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", choices=["all", "train", "sample"], default="all")
    ap.add_argument("--no-full", action="store_true",
                    help="sample with the key/value cache only (recomputing the prefix is O(T²) and slow at large shapes)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Model(a.vocab, a.context, a.d_model, a.layers, a.heads, a.mlp)
    print("torch_version", torch.__version__)
    print("torch_threads", torch.get_num_threads())
    print("torch_params", sum(p.numel() for p in model.parameters()))
    print("torch_blas", blas_info())

    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    ids = torch.randint(0, a.vocab, (a.batch, a.context))

    def train_step():
        out = model(ids)
        logits = out[:, :-1, : a.vocab]
        loss = F.cross_entropy(logits.reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    if a.only in ("all", "train"):
        for _ in range(2):
            train_step()
        step, cpu = mean_of(train_step, a.repeats, 1)
        print("torch_train_step_ms", f"{step * 1e3:.3f}")
        print("torch_train_cpu_ms", f"{cpu * 1e3:.3f}")
        print("torch_train_tokens_per_s", f"{a.batch * a.context / step:.0f}")
        print("torch_train_peak_rss_mib", f"{peak_rss_mib():.1f}")
    if a.only == "train":
        return

    new = a.context - 1

    @torch.no_grad()
    def sample_kv():
        seq = torch.ones(a.batch, 1, dtype=torch.long)
        caches = [dict() for _ in model.blocks]
        cur = seq
        for p in range(new):
            logits = model(cur, pos0=p, caches=caches)[:, -1, : a.vocab]
            probs = torch.softmax(logits, dim=-1)
            nxt = torch.multinomial(probs, 1)
            torch.log_softmax(logits, dim=-1).gather(1, nxt)  # log-probs, as core/nn reports them
            seq = torch.cat([seq, nxt], dim=1)
            cur = nxt
        return seq

    @torch.no_grad()
    def sample_full():
        seq = torch.ones(a.batch, 1, dtype=torch.long)
        for _ in range(new):
            logits = model(seq)[:, -1, : a.vocab]
            probs = torch.softmax(logits, dim=-1)
            nxt = torch.multinomial(probs, 1)
            torch.log_softmax(logits, dim=-1).gather(1, nxt)
            seq = torch.cat([seq, nxt], dim=1)
        return seq

    model.eval()
    kinds = (("kv", sample_kv),) if a.no_full else (("kv", sample_kv), ("full", sample_full))
    for name, fn in kinds:
        fn()
        t, cpu = mean_of(fn, a.repeats, 1)
        print(f"torch_sample_{name}_ms", f"{t * 1e3:.3f}")
        print(f"torch_sample_{name}_cpu_ms", f"{cpu * 1e3:.3f}")
        print(f"torch_sample_{name}_tokens_per_s", f"{a.batch * new / t:.0f}")
    print("torch_sample_peak_rss_mib", f"{peak_rss_mib():.1f}")


if __name__ == "__main__":
    main()
