"""Independent reference forwards of GPT-2 and Llama in plain PyTorch (no
pit code, no transformers package), used by core/hf's tests to check pit's
import.

Usage: reference.py MODEL_DIR [--grad] < sequences.json  (a JSON list of
token-id lists). Prints JSON: {"logits": [T x V per sequence], "loss": [mean
next-token cross-entropy per sequence]}. With --grad it prints instead
{"loss": the batch loss, "grads": {tensor name: flat gradient}}: the batch
loss is the mean next-token cross-entropy over every predicted token of
every sequence (what pit's SFT step reports), and the gradients are
torch.autograd's with respect to each tensor of the folder (a tied
embedding gets the sum over its two uses). Reads config.json and every
*.safetensors file of the folder with its own parser; computes in float64.

The architecture is the published one (Radford et al. 2019, as in Hugging
Face's modeling_gpt2.py): token + learned position embeddings; per block
x += attn(ln_1(x)), x += mlp(ln_2(x)) with Conv1D weights stored [in, out],
c_attn producing q|k|v, causal softmax(q k^T / sqrt(d_head)), the tanh GELU;
ln_f; logits against the tied token embedding (or lm_head.weight).

Llama (Touvron et al. 2023, as in Hugging Face's modeling_llama.py): token
embedding; per block x += o_proj(attn(rope(q), rope(k), v)) on
RMSNorm(x) with key/value heads shared by groups of query heads (query head
h reads key/value head h // (H/KV)), rotary positions in the "rotate half"
form with inv_freq = theta^(-2i/d_head); x += down(silu(gate(h)) * up(h))
on RMSNorm(x); final RMSNorm; lm_head (or the tied embedding). Linear
weights are stored [out, in].
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
    seqs = json.load(sys.stdin)
    forward = {"gpt2": gpt2, "llama": llama}[cfg["model_type"]]
    if "--grad" in sys.argv[2:]:
        for t in w.values():
            t.requires_grad_(True)
        total, count = 0.0, 0
        for ids in seqs:
            ids = torch.tensor(ids)
            logits = forward(cfg, w, ids)
            total = total + torch.nn.functional.cross_entropy(logits[:-1], ids[1:], reduction="sum")
            count += len(ids) - 1
        loss = total / count
        loss.backward()
        grads = {
            k: (t.grad if t.grad is not None else torch.zeros_like(t)).flatten().tolist()
            for k, t in w.items()
        }
        json.dump({"loss": loss.item(), "grads": grads}, sys.stdout)
        return
    res = {"logits": [], "loss": []}
    for ids in seqs:
        ids = torch.tensor(ids)
        logits = forward(cfg, w, ids)
        loss = torch.nn.functional.cross_entropy(logits[:-1], ids[1:])
        res["logits"].append(logits.tolist())
        res["loss"].append(loss.item())
    json.dump(res, sys.stdout)


def llama(cfg, w, ids):
    D, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    KV = cfg.get("num_key_value_heads") or H
    eps, theta = cfg.get("rms_norm_eps", 1e-6), cfg.get("rope_theta", 10000.0)
    dh, T = D // H, len(ids)

    def rms(x, k):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w[k]

    inv_freq = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=torch.float64) / dh))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()

    def rot(x):  # x: (heads, T, dh)
        x1, x2 = x[..., : dh // 2], x[..., dh // 2 :]
        return x * cos + torch.cat((-x2, x1), dim=-1) * sin

    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    x = w["model.embed_tokens.weight"][ids]
    for l in range(L):
        p = f"model.layers.{l}."
        h = rms(x, p + "input_layernorm.weight")
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(T, H, dh).transpose(0, 1)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(T, KV, dh).transpose(0, 1)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(T, KV, dh).transpose(0, 1)
        q, k = rot(q), rot(k)
        k = k.repeat_interleave(H // KV, dim=0)
        v = v.repeat_interleave(H // KV, dim=0)
        s = (q @ k.transpose(1, 2)) / math.sqrt(dh)
        s = s.masked_fill(~mask, float("-inf"))
        y = (torch.softmax(s, dim=-1) @ v).transpose(0, 1).reshape(T, D)
        x = x + y @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, p + "post_attention_layernorm.weight")
        g = h @ w[p + "mlp.gate_proj.weight"].T
        u = h @ w[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ w[p + "mlp.down_proj.weight"].T
    x = rms(x, "model.norm.weight")
    head = w["lm_head.weight"] if "lm_head.weight" in w else w["model.embed_tokens.weight"]
    return x @ head.T


def gpt2(cfg, w, ids):
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
    return ln(x, "ln_f") @ lm.T


if __name__ == "__main__":
    main()
