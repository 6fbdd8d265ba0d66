"""Independent reference forward of GPT-2 in plain PyTorch (no pit code, no
transformers package), used by core/hf's tests to check pit's import.

Usage: gpt2_reference.py MODEL_DIR < sequences.json  (a JSON list of token-id
lists). Prints JSON: {"logits": [T x V per sequence], "loss": [mean
next-token cross-entropy per sequence]}. Reads config.json and every
*.safetensors file of the folder with its own parser; computes in float64.

The architecture is the published one (Radford et al. 2019, as in Hugging
Face's modeling_gpt2.py): token + learned position embeddings; per block
x += attn(ln_1(x)), x += mlp(ln_2(x)) with Conv1D weights stored [in, out],
c_attn producing q|k|v, causal softmax(q k^T / sqrt(d_head)), the tanh GELU;
ln_f; logits against the tied token embedding (or lm_head.weight).
"""
import glob
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n])
    data = buf[8 + n :]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[lo:hi]), dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).to(torch.float64)
    return out


def main():
    d = sys.argv[1]
    cfg = json.load(open(os.path.join(d, "config.json")))
    w = {}
    for p in sorted(glob.glob(os.path.join(d, "*.safetensors"))):
        w.update(read_safetensors(p))
    pre = "transformer." if "transformer.wte.weight" in w else ""
    W = lambda k: w[pre + k]
    D, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    dh = D // H

    def ln(x, k):
        return torch.nn.functional.layer_norm(x, (D,), W(k + ".weight"), W(k + ".bias"), eps)

    def gelu(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))

    lm = w["lm_head.weight"] if "lm_head.weight" in w else W("wte.weight")
    seqs = json.load(sys.stdin)
    res = {"logits": [], "loss": []}
    for ids in seqs:
        ids = torch.tensor(ids)
        T = len(ids)
        x = W("wte.weight")[ids] + W("wpe.weight")[:T]
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for l in range(L):
            h = f"h.{l}."
            a = ln(x, h + "ln_1") @ W(h + "attn.c_attn.weight") + W(h + "attn.c_attn.bias")
            q, k, v = a.split(D, dim=1)
            q, k, v = (t.view(T, H, dh).transpose(0, 1) for t in (q, k, v))
            s = (q @ k.transpose(1, 2)) / math.sqrt(dh)
            s = s.masked_fill(~mask, float("-inf"))
            y = (torch.softmax(s, dim=-1) @ v).transpose(0, 1).reshape(T, D)
            x = x + y @ W(h + "attn.c_proj.weight") + W(h + "attn.c_proj.bias")
            u = gelu(ln(x, h + "ln_2") @ W(h + "mlp.c_fc.weight") + W(h + "mlp.c_fc.bias"))
            x = x + u @ W(h + "mlp.c_proj.weight") + W(h + "mlp.c_proj.bias")
        logits = ln(x, "ln_f") @ lm.T
        loss = torch.nn.functional.cross_entropy(logits[:-1], ids[1:])
        res["logits"].append(logits.tolist())
        res["loss"].append(loss.item())
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
