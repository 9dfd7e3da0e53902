"""The PyTorch reference of hcx's model and training step: the speed comparison of bench/train_bench, and
the loader of `hcx export` folders.

It builds the architecture of lib/hcx/model (gpt.cpp, layers.cpp, hyper_connections.cpp, mhc.cpp) with the
same parameter names, shapes and order, and trains it the way lib/hcx/train/trainer.cpp does (AdamW in
two groups, global-norm clipping, the same lr schedule, one loss and one grad-norm read per step).
load(DIR) rebuilds the model of an `hcx export` folder (config.json, model.safetensors) and loads its
weights, reading safetensors with json, struct and torch only: Pre-Norm, Post-Norm, SHC, DHC, mHC, SFC and DFC
(Frac-Connections), LAuReL, DenseFormer and MUDDFormer, with layernorm or rmsnorm, a swiglu or gelu FFN or the MoE
FFN (ffn "moe", moe.h: SwiGLU experts, top-k routing), tied or untied embeddings, sum or mean reduction of the streams.

  import sys; sys.path.insert(0, "bench"); import reference_gpt
  model = reference_gpt.load("export-3f2a9c0d11e4b7a2")   # eval mode, on the CPU
  logits = model(torch.tensor([[72, 105]]))               # (B, T, V)

Runs on the Python torch of the LibTorch hcx links: Debian's python3-torch 1.13.1 for the Debian build, the
wheel's torch for the PyPI build. Attention is what hcx computes on that version: the explicit masked softmax on
1.x, F.scaled_dot_product_attention on 2.x. RoPE and the HC/mHC mixing are written the plain way: hcx fuses some
of these ops (lib/hcx/model/fused.h). With --dtype bfloat16 the step runs under bf16 autocast on the device of
the batch (cpu or cuda: torch.autocast(device_type=...), on torch 1.13 and 2.x), the mixing, norms and loss in
float32, as lib/hcx/train does.

  reference_gpt.py time  --d-model 128 --layers 4 --batch 16 --seq 128 --threads 1 --variant dhc --steps 40
                         [--dtype bfloat16] [--device cuda --heads 12] [--ffn moe]
      prints one JSON line: tokens_per_s, seconds, steps, params, peak_cuda_bytes (CUDA), ...
  reference_gpt.py check DIR
      reads the weights, batch and losses train_bench --check wrote to DIR, recomputes them, and prints
      the differences (one JSON line); exit 1 when they disagree.
  reference_gpt.py logits DIR [--tol 1e-5]
      loads the export DIR, recomputes the logits hcx wrote to DIR/logits.json (hcx export --logits-for),
      and prints the largest difference (one JSON line); exit 1 when it is above --tol.

Shapes: B batch, T time, d = d_model, nh heads, hs = d / nh head size, h FFN hidden, n streams, V vocab,
m fractions of e = d / m features (Frac-Connections), r the LAuReL rank, C ways, S sources and K hidden of a
MUDDFormer aggregation; N = B T tokens, E experts, k = top_k and h_e expert hidden of the MoE FFN.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    """The model and optimizer keys of hcx's run config that the benchmark varies (defaults as in run_config.h)."""

    def __init__(self, **kw):
        self.d_model, self.n_layers, self.n_heads, self.seq_len, self.vocab_size = 64, 2, 4, 64, 256
        self.norm_eps, self.init_std, self.rope_theta = 1e-5, 0.02, 10000.0
        # norm: "layernorm" | "rmsnorm"; ffn: "swiglu" | "gelu" | "moe"
        self.norm, self.ffn, self.tie_embeddings = "layernorm", "swiglu", True
        # ffn "moe": E experts, top-k, expert hidden h_e (0: ceil(h / k)), renormalised top-k weights; aux losses
        self.moe_experts, self.moe_top_k, self.moe_hidden, self.moe_norm_topk = 8, 2, 0, False
        self.moe_lb_weight, self.moe_z_weight = 0.01, 0.001
        self.moe_lb_convention, self.moe_z_reduce = "megablocks", "mean"  # "megablocks" | "hf"; "mean" | "sum"
        # variant: "pre_norm" | "post_norm" | "dhc" | "shc" | "mhc" | "dfc" | "sfc" | "laurel" | "denseformer" | "mudd";
        # n: the streams of HC/mHC, the frac rate m of DFC/SFC; reduce: "sum" | "mean" of the streams
        self.variant, self.n, self.use_tanh, self.reduce = "pre_norm", 4, True, "sum"
        self.sinkhorn_iters = 20
        self.dynamic_norm, self.dynamic_scale = True, True  # DFC: norm of each fraction, scales s_a, s_b
        self.laurel_rank, self.dwa_dilation, self.dwa_period = 0, 1, 1  # LAuReL r (0: RW); DenseFormer k, p
        self.lr, self.warmup_steps, self.min_lr_ratio, self.steps = 1e-3, 20, 0.1, 200
        self.beta1, self.beta2, self.weight_decay, self.grad_clip = 0.9, 0.95, 0.1, 1.0
        self.__dict__.update(kw)

    @classmethod
    def from_hcx(cls, rc):
        """The Config of an hcx run config (the nested JSON of config::to_json, as config.json of an export holds)."""
        m, r, t = rc["model"], rc["residual"], rc.get("train", {})
        d = r.get("dynamic", True)
        variant = {"hc": "dhc" if d else "shc", "frac": "dfc" if d else "sfc"}.get(r["kind"], r["kind"])
        return cls(d_model=m["d_model"], n_layers=m["n_layers"], n_heads=m["n_heads"], seq_len=m["seq_len"],
                   vocab_size=m["vocab_size"], norm_eps=m["norm_eps"], init_std=m["init_std"],
                   rope_theta=m["rope_theta"], norm=m["norm"], ffn=m["ffn"], tie_embeddings=m["tie_embeddings"],
                   variant=variant, n=r["n"], use_tanh=r["tanh"], reduce=r["reduce"],
                   sinkhorn_iters=r["sinkhorn_iters"], dynamic_norm=r.get("dynamic_norm", True),
                   dynamic_scale=r.get("dynamic_scale", True), laurel_rank=r.get("laurel_rank", 0),
                   dwa_dilation=r.get("dwa_dilation", 1), dwa_period=r.get("dwa_period", 1), **{k: t[k] for k in (
                       "lr", "warmup_steps", "min_lr_ratio", "steps", "beta1", "beta2", "weight_decay",
                       "grad_clip") if k in t}, **{k: m[k] for k in (
                       "moe_experts", "moe_top_k", "moe_hidden", "moe_norm_topk", "moe_lb_weight", "moe_z_weight",
                       "moe_lb_convention", "moe_z_reduce") if k in m})

    @property
    def streams(self):
        """HC and mHC: the stream is n copies wide, H (B, T, n, d)."""
        return self.variant in ("dhc", "shc", "mhc")

    @property
    def mixers(self):
        """The variants with a module per sublayer, hc_attn and hc_ffn."""
        return self.streams or self.variant in ("dfc", "sfc", "laurel")


def ffn_hidden(d, ffn="swiglu"):
    """FFN hidden width (param_specs.cpp): swiglu ceil(8d/3) rounded up to a multiple of 8; gelu 4d."""
    return 4 * d if ffn == "gelu" else ((8 * d + 2) // 3 + 7) // 8 * 8  # swiglu and moe: the swiglu width


def moe_hidden(cfg):
    """param_specs.cpp: the expert hidden h_e, model.moe_hidden or (0) ceil(h / k) of the swiglu hidden h."""
    return cfg.moe_hidden if cfg.moe_hidden > 0 else -(-ffn_hidden(cfg.d_model) // cfg.moe_top_k)


def norm(x, eps):
    """LayerNorm over the last dimension without affine parameters, in float32."""
    return F.layer_norm(x.float(), (x.size(-1),), eps=eps)


class Norm(nn.Module):
    """layers.cpp's Norm over the last dimension, float32 out: LayerNorm without parameters, or RMSNorm with a
    gain `weight` (dim)."""

    def __init__(self, cfg, dim):
        super().__init__()
        self.rms, self.eps = cfg.norm == "rmsnorm", cfg.norm_eps
        if self.rms:
            self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        if not self.rms:
            return norm(x, self.eps)
        x = x.float()
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight.float()


def rope_tables(T, hs, theta):
    """cos, sin (T, hs) float32: angle(t, i) = t * theta^(-2i/hs), halves repeated (rotate-half layout)."""
    i = torch.arange(hs // 2, dtype=torch.float64)
    inv_freq = torch.pow(theta, -2.0 * i / hs)
    angle = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)  # (T, hs/2)
    angle = torch.cat([angle, angle], -1)                                 # (T, hs)
    return angle.cos().float(), angle.sin().float()


def apply_rope(x, cos, sin):
    """x: (B, nh, T, hs) -> the same, rotated: x * cos + rotate_half(x) * sin."""
    T, half = x.size(2), x.size(3) // 2
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos[:T] + torch.cat([-x2, x1], -1) * sin[:T]


def causal_attention(q, k, v):
    """softmax(q k^T / sqrt(hs) + causal mask) v, q k v: (B, nh, T, hs): SDPA on 2.x, else layers.cpp's 1.x path."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    T, hs = q.size(2), q.size(3)
    att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, nh, T, T)
    future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
    att = torch.softmax(att.masked_fill(future, float("-inf")), -1)
    return torch.matmul(att, v)                                         # (B, nh, T, hs)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.d_model
        self.n_heads = cfg.n_heads
        self.c_attn = nn.Linear(d, 3 * d, bias=False)  # (3d, d) -> q, k, v
        self.c_proj = nn.Linear(d, d, bias=False)
        cos, sin = rope_tables(cfg.seq_len, d // cfg.n_heads, cfg.rope_theta)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def forward(self, x):  # (B, T, d)
        return self.attend(*self.c_attn(x).split(x.size(-1), -1))

    def forward_qkv(self, xq, xk, xv):
        """MUDDFormer (layers.cpp): q, k, v from three inputs (B, T, d), each with its rows of c_attn."""
        wq, wk, wv = self.c_attn.weight.split(xq.size(-1), 0)  # 3 x (d, d)
        return self.attend(F.linear(xq, wq), F.linear(xk, wk), F.linear(xv, wv))

    def attend(self, q, k, v):  # the projected q, k, v (B, T, d) -> (B, T, d)
        B, T, C = q.size()
        heads = lambda t: t.reshape(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)  # (B, nh, T, hs)
        q = apply_rope(heads(q), self.rope_cos, self.rope_sin)
        k = apply_rope(heads(k), self.rope_cos, self.rope_sin)
        y = causal_attention(q, k, heads(v))
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))  # (B, T, d)


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.swiglu = cfg.ffn == "swiglu"
        h = ffn_hidden(cfg.d_model, cfg.ffn)
        self.c_fc = nn.Linear(cfg.d_model, 2 * h if self.swiglu else h, bias=False)  # swiglu: [gate | up]
        self.c_proj = nn.Linear(h, cfg.d_model, bias=False)

    def forward(self, x):  # (B, T, d)
        if not self.swiglu:
            return self.c_proj(F.gelu(self.c_fc(x)))  # (B, T, h) inside
        gate, up = self.c_fc(x).chunk(2, -1)  # 2 x (B, T, h)
        return self.c_proj(F.silu(gate) * up)


class ExpertLinear(nn.Module):
    """moe.h's ExpertLinear: E stacked matrices `weight` (E, out, in), each laid out as a Linear's (out, in)."""

    def __init__(self, experts, d_in, d_out):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(experts, d_out, d_in))  # drawn like the dense FFN's by Gpt


class Moe(nn.Module):
    """The MoE FFN (moe.h), registered as the block's `mlp`: a router and E SwiGLU experts, dropless top-k routing.
    Tokens X (N, d): z = X W_r^T, p = softmax(z), (w, I) = topk(p, k) in float32 (moe_norm_topk: w / sum_s w),
    y_t = sum_s w_ts E_{I_ts}(x_t), E_e(x) = c_proj_e (silu(gate_e x) * up_e x). Each forward sets the layer's
    aux losses `lb` = E / (N k) sum_e c_e mean_t p_te and `z` = mean_t logsumexp(z_t)^2 (Gpt.moe_aux_loss)."""

    def __init__(self, cfg):
        super().__init__()
        d, self.experts, self.top_k, self.norm_topk = cfg.d_model, cfg.moe_experts, cfg.moe_top_k, cfg.moe_norm_topk
        he = moe_hidden(cfg)
        # registration order as moe.cpp: router, c_fc, c_proj
        self.router = nn.Linear(d, self.experts, bias=False)  # (E, d)
        self.c_fc = ExpertLinear(self.experts, d, 2 * he)      # (E, 2h_e, d): per expert [gate | up] rows
        self.c_proj = ExpertLinear(self.experts, he, d)        # (E, d, h_e)
        self.lb = self.z = None                                # the aux losses of the latest forward

    def forward(self, x):  # (..., d) -> (..., d), float32 (the mixing dtype)
        d, E, k = x.size(-1), self.experts, self.top_k
        X = x.reshape(-1, d)                                                     # (N, d)
        N = X.size(0)
        with torch.autocast(device_type=x.device.type, enabled=False):  # moe.cpp's MixingGuard
            Xf = X.float() if X.dtype != torch.float64 else X
            z = Xf @ self.router.weight.to(Xf.dtype).t()                         # (N, E)
            logp = torch.log_softmax(z, -1)
            p = logp.exp()                                                       # (N, E)
            w, idx = p.topk(k, -1, largest=True, sorted=True)                    # (N, k)
            counts = torch.bincount(idx.reshape(-1), minlength=E)                # (E) c_e
            self.lb = E / (N * k) * (counts.to(p.dtype) * p.mean(0)).sum()
            self.z = torch.logsumexp(z, -1).pow(2).mean()
            if self.norm_topk:
                w = w / w.sum(-1, keepdim=True)
        fc, proj = self.c_fc.weight.unbind(0), self.c_proj.weight.unbind(0)
        out = w.new_zeros(N, k, d)                                               # per assignment w_ts E_{I_ts}(x_t)
        for e in range(E):
            tok, slot = (idx == e).nonzero(as_tuple=True)                        # the assignments to expert e
            if tok.numel() == 0:
                continue
            gate, up = F.linear(X[tok], fc[e]).chunk(2, -1)                      # 2 x (c_e, h_e)
            ye = F.linear(F.silu(gate) * up, proj[e])                            # (c_e, d)
            out = out.index_put((tok, slot), ye.to(w.dtype) * w[tok, slot].unsqueeze(1))
        return out.sum(1).reshape(x.shape)                                       # summed over the k slots


class HyperConnection(nn.Module):
    """Static or dynamic HC of sublayer k (docs/method.md), H: (B, T, n, d); init makes it Pre-Norm."""

    def __init__(self, cfg, k):
        super().__init__()
        n, d = cfg.n, cfg.d_model
        self.dynamic, self.use_tanh, self.eps = cfg.variant == "dhc", cfg.use_tanh, cfg.norm_eps
        alpha0 = torch.zeros(n, n + 1)  # [A_m | A_r] = [e_{k mod n} | I]
        alpha0[k % n, 0] = 1.0
        alpha0[:, 1:] = torch.eye(n)
        self.static_beta = nn.Parameter(torch.ones(n))
        self.static_alpha = nn.Parameter(alpha0)
        if self.dynamic:
            self.dynamic_alpha_fn = nn.Parameter(torch.zeros(d, n + 1))
            self.dynamic_beta_fn = nn.Parameter(torch.zeros(d))
            self.dynamic_alpha_scale = nn.Parameter(torch.full((1,), 0.01))
            self.dynamic_beta_scale = nn.Parameter(torch.full((1,), 0.01))
            self.norm = Norm(cfg, d)  # the stream norm; a gain norm.weight (d) with rmsnorm

    def weights(self, H):
        """alpha (.., n, n+1) = A(H), beta (.., n) = B(H); static: the parameters themselves."""
        if not self.dynamic:
            return self.static_alpha, self.static_beta
        Hn = self.norm(H)                     # (B, T, n, d): each stream normalised over d
        wc = Hn @ self.dynamic_alpha_fn       # (B, T, n, n+1)
        dc = Hn @ self.dynamic_beta_fn        # (B, T, n)
        if self.use_tanh:
            wc, dc = torch.tanh(wc), torch.tanh(dc)
        return self.static_alpha + self.dynamic_alpha_scale * wc, self.static_beta + self.dynamic_beta_scale * dc

    def forward(self, H, f):
        n = self.static_beta.size(0)
        H = H.float()
        alpha, beta = self.weights(H)
        mix = alpha.transpose(-1, -2) @ H      # (.., n+1, n) x (B, T, n, d) -> (B, T, n+1, d)
        h0, rest = mix.select(-2, 0), mix.narrow(-2, 1, n)  # (B, T, d) = A_m^T H, (B, T, n, d) = A_r^T H
        y = f(h0)                                           # (B, T, d)
        return beta.unsqueeze(-1) * y.float().unsqueeze(-2) + rest  # (B, T, n, d)


def sinkhorn_knopp(logits, iters):
    """mhc.cpp: `iters` rounds of row then column normalisation of exp(logits), in the log domain."""
    for _ in range(iters):
        logits = logits - logits.logsumexp(-1, keepdim=True)
        logits = logits - logits.logsumexp(-2, keepdim=True)
    return logits.exp()


class ManifoldHyperConnection(nn.Module):
    """mHC of sublayer k (mhc.h), H: (B, T, n, d); the init of mhc.cpp (leak 0.02)."""

    def __init__(self, cfg, k):
        super().__init__()
        n, nd, leak = cfg.n, cfg.n * cfg.d_model, 0.02
        self.eps, self.iters = cfg.norm_eps, cfg.sinkhorn_iters
        pre0 = torch.full((n,), math.log(leak / (1 - leak)))
        pre0[k % n] = math.log((1 - leak) / leak)
        res0 = torch.eye(n) * math.log((1 - leak) * (n - 1) / leak) if n > 1 else torch.zeros(n, n)
        self.phi_pre = nn.Parameter(torch.zeros(nd, n))
        self.phi_post = nn.Parameter(torch.zeros(nd, n))
        self.phi_res = nn.Parameter(torch.zeros(nd, n * n))
        self.b_pre, self.b_post, self.b_res = nn.Parameter(pre0), nn.Parameter(torch.zeros(n)), nn.Parameter(res0)
        self.alpha_pre, self.alpha_post, self.alpha_res = (nn.Parameter(torch.full((1,), 0.01)) for _ in range(3))

    def forward(self, H, f):
        n = self.b_post.size(0)
        H = H.float()
        x = H.flatten(-2)                                                   # (B, T, n*d)
        xn = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)     # RMSNorm, no gain
        pre = torch.sigmoid(self.alpha_pre * (xn @ self.phi_pre) + self.b_pre)           # (B, T, n)
        post = 2 * torch.sigmoid(self.alpha_post * (xn @ self.phi_post) + self.b_post)   # (B, T, n)
        res = (self.alpha_res * (xn @ self.phi_res)).unflatten(-1, (n, n)) + self.b_res  # (B, T, n, n)
        res = sinkhorn_knopp(res, self.iters)
        h0 = (pre.unsqueeze(-1) * H).sum(-2)                                # (B, T, d) = H^pre H
        y = f(h0)                                                           # (B, T, d)
        return post.unsqueeze(-1) * y.float().unsqueeze(-2) + res @ H       # (B, T, n, d)


class FracConnection(nn.Module):
    """Static or dynamic Frac-Connection (frac.h), x: (B, T, d) as m fractions of e; FC = [[0, B], [Y, A]],
    init B = 1, Y = A = I makes it Pre-Norm."""

    def __init__(self, cfg):
        super().__init__()
        m, e = cfg.n, cfg.d_model // cfg.n
        self.dynamic, self.use_tanh, self.scaled = cfg.variant == "dfc", cfg.use_tanh, cfg.dynamic_scale
        self.static_beta = nn.Parameter(torch.ones(m))                                    # B
        self.static_alpha = nn.Parameter(torch.cat([torch.eye(m), torch.eye(m)], 1))      # [Y | A] (m, 2m)
        if self.dynamic:
            self.dynamic_alpha_fn = nn.Parameter(torch.zeros(e, 2 * m))                   # W_a
            self.dynamic_beta_fn = nn.Parameter(torch.zeros(e))                           # w_b
            if self.scaled:
                self.dynamic_alpha_scale = nn.Parameter(torch.full((1,), 0.01))
                self.dynamic_beta_scale = nn.Parameter(torch.full((1,), 0.01))
            self.norm = Norm(cfg, e) if cfg.dynamic_norm else None  # each fraction over e; gain (e) with rmsnorm

    def weights(self, Fr):
        """alpha (.., m, 2m) = [Y | A], beta (.., m) = B for the fractions Fr (B, T, m, e); row i reads f_i only."""
        if not self.dynamic:
            return self.static_alpha, self.static_beta
        m = self.static_beta.size(0)
        Fn = self.norm(Fr) if self.norm is not None else Fr
        p = Fn @ torch.cat([self.dynamic_alpha_fn, self.dynamic_beta_fn.unsqueeze(1)], 1)  # (B, T, m, 2m+1)
        if self.use_tanh:
            p = torch.tanh(p)
        wc, dc = p[..., :2 * m], p[..., 2 * m]
        if self.scaled:
            wc, dc = self.dynamic_alpha_scale * wc, self.dynamic_beta_scale * dc
        return self.static_alpha + wc, self.static_beta + dc

    def forward(self, x, f):
        m = self.static_beta.size(0)
        Fr = x.float().unflatten(-1, (m, -1))     # (B, T, m, e): fraction i = x[..., i*e:(i+1)*e]
        alpha, beta = self.weights(Fr)
        mix = alpha.transpose(-1, -2) @ Fr        # (.., 2m, m) x (B, T, m, e) -> (B, T, 2m, e)
        h0 = mix[..., :m, :].flatten(-2)          # (B, T, d) = concat of Y^T F
        y = f(h0).float().unflatten(-1, (m, -1))  # (B, T, m, e)
        return (beta.unsqueeze(-1) * y + mix[..., m:, :]).flatten(-2)  # (B, T, d): B_j y_j + (A^T F)_j


class Laurel(nn.Module):
    """LAuReL-RW (r = 0) or RW+LR (rank r > 0) of a sublayer, x: (B, T, d); init makes it Pre-Norm."""

    def __init__(self, cfg):
        super().__init__()
        d, self.rank = cfg.d_model, cfg.laurel_rank
        self.rw = nn.Parameter(torch.zeros(2))
        if self.rank:
            lr_a = torch.zeros(d, self.rank)  # (d, r): 1/sqrt(r d) at [i, i mod r]
            lr_a[torch.arange(d), torch.arange(d) % self.rank] = 1.0 / math.sqrt(self.rank * d)
            self.lr_a = nn.Parameter(lr_a)
            self.lr_b = nn.Parameter(torch.zeros(self.rank, d))

    def forward(self, x, f):
        x = x.float()
        a, b = 2 * torch.softmax(self.rw, 0)  # 1, 1 at init
        res = x + (x @ self.lr_a) @ self.lr_b if self.rank else x  # (B, T, r) inside
        return a * f(x).float() + b * res     # (B, T, d)


def mudd_shape(cfg, i):
    """param_specs.cpp: (C, S, K) of the aggregation after block i: C = 4 ways (Q, K, V, R), 1 (R) after the
    last block; S = i + 2 sources X_0 .. X_{i+1}; K = C S hidden, 4 S after the last block."""
    last = i + 1 == cfg.n_layers
    ways, sources = (1 if last else 4), i + 2
    return ways, sources, 4 * sources if last else ways * sources


class Mudd(nn.Module):
    """MUDDFormer's dynamic dense aggregation after block i (mudd.h): per token,
    dw = GELU(RMSNorm(X_{i+1}) W1) W2 + a (B, T, C, S), RMSNorm without gain; Xbar^c = sum_j dw[..., c, j] X_j.
    Init: W1 ~ normal(0, 1/sqrt(d)), W2 = 0, a one-hot on j = i + 1, so every Xbar^c = X_{i+1}."""

    def __init__(self, cfg, i):
        super().__init__()
        d, self.eps = cfg.d_model, cfg.norm_eps
        self.ways, self.sources, self.hidden = mudd_shape(cfg, i)
        self.w1 = nn.Parameter(torch.randn(d, self.hidden) / math.sqrt(d))       # (d, K)
        self.w2 = nn.Parameter(torch.zeros(self.hidden, self.ways * self.sources))  # (K, C S)
        a0 = torch.zeros(self.ways, self.sources)
        a0[:, -1] = 1.0  # every way reads the block's own output
        self.a = nn.Parameter(a0)                                                  # (C, S)

    def forward(self, outputs):
        """outputs: X_0 .. X_{i+1}, each (B, T, d) -> the C streams Xbar^c (B, T, d), float32 (Q, K, V, R or R)."""
        x = outputs[-1]
        with torch.autocast(device_type=x.device.type, enabled=False):  # mudd.cpp's MixingGuard
            xf = x.float() if x.dtype != torch.float64 else x
            xn = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)  # RMSNorm, no gain
            dw = (F.gelu(xn @ self.w1) @ self.w2).reshape(x.size(0), x.size(1), self.ways, self.sources) + self.a
            out = []
            for c in range(self.ways):
                w = dw[..., c, :]  # (B, T, S)
                y = w[..., -1:] * xf  # the block's own output first: at init each further term adds an exact 0
                for j in range(self.sources - 1):
                    y = y + w[..., j:j + 1] * outputs[j].to(xf.dtype)
                out.append(y)  # (B, T, d)
            return out


class Block(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        self.cfg = cfg
        # registration order as gpt.cpp: ln_1, attn, ln_2, mlp, hc_attn, hc_ffn | ln_1k, ln_1v, mudd, dwa_weights
        self.ln_1 = Norm(cfg, cfg.d_model)
        self.attn = Attention(cfg)
        self.ln_2 = Norm(cfg, cfg.d_model)
        self.mlp = Moe(cfg) if cfg.ffn == "moe" else Mlp(cfg)  # both named mlp
        if cfg.streams:
            mixer = ManifoldHyperConnection if cfg.variant == "mhc" else HyperConnection
            self.hc_attn = mixer(cfg, 2 * i)
            self.hc_ffn = mixer(cfg, 2 * i + 1)
        elif cfg.mixers:
            mixer = Laurel if cfg.variant == "laurel" else FracConnection
            self.hc_attn = mixer(cfg)
            self.hc_ffn = mixer(cfg)
        elif cfg.variant == "mudd":
            self.ln_1k = Norm(cfg, cfg.d_model)
            self.ln_1v = Norm(cfg, cfg.d_model)
            self.mudd = Mudd(cfg, i)
        self.dwa_weights = None
        if cfg.variant == "denseformer" and (i + 1) % cfg.dwa_period == 0:
            w0 = torch.zeros(len(range((i + 1) % cfg.dwa_dilation, i + 2, cfg.dwa_dilation)))  # over S_i ascending
            w0[-1] = 1.0  # X_{i+1}
            self.dwa_weights = nn.Parameter(w0)

    def forward(self, x):
        if self.cfg.variant == "mudd":
            return self.forward_mudd([x, x, x, x])
        attn_f = lambda h0: self.attn(self.ln_1(h0))
        ffn_f = lambda h0: self.mlp(self.ln_2(h0))
        if self.cfg.mixers:
            return self.hc_ffn(self.hc_attn(x, attn_f), ffn_f)
        if self.cfg.variant == "post_norm":  # x <- norm(x + F(x))
            x = self.ln_1(x + self.attn(x))
            return self.ln_2(x + self.mlp(x))
        x = x + attn_f(x)
        return x + ffn_f(x)

    def forward_mudd(self, qkvr):
        """MUDDFormer's block on its streams Xbar^Q, Xbar^K, Xbar^V, Xbar^R (B, T, d) -> X_{i+2} (B, T, d):
        X_A = attn(ln_1(Q), ln_1k(K), ln_1v(V)) + R, then X_A + mlp(ln_2(X_A))."""
        q, k, v, r = qkvr
        xa = self.attn.forward_qkv(self.ln_1(q), self.ln_1k(k), self.ln_1v(v)) + r
        return xa + self.mlp(self.ln_2(xa))

    def average(self, history):
        """DenseFormer's Y_{i+1} (B, T, d) from history [X_0 .. X_{i+1}] of block outputs: the dwa_weights
        average of X_j over S_i = {j : j mod k = (i+1) mod k}; X_{i+1} in a block without weights."""
        if self.dwa_weights is None:
            return history[-1]
        k = self.cfg.dwa_dilation
        sources = history[(len(history) - 1) % k::k]  # S_i ascending, ending with X_{i+1}
        w = self.dwa_weights  # X_{i+1} first, as gpt.cpp: exactly X_{i+1} at init
        return sum((w[s] * x for s, x in enumerate(sources[:-1])), w[-1] * sources[-1])


class Gpt(nn.Module):
    """hcx's GPT: embedding, L blocks (DenseFormer: each followed by its average; MUDDFormer: by its dynamic
    dense aggregation, the last one's R stream going on), (HC: sum or mean of streams),
    final norm (none for Post-Norm), unembedding (tied to wte unless tie_embeddings is false).
    ffn "moe": moe_aux_loss() of the latest forward goes with the cross-entropy in training."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.h = nn.ModuleList([Block(cfg, i) for i in range(cfg.n_layers)])
        self.ln_f = None if cfg.variant == "post_norm" else Norm(cfg, cfg.d_model)
        self.lm_head = None if cfg.tie_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        out_std = cfg.init_std / math.sqrt(2 * cfg.n_layers)
        for name, p in self.named_parameters():
            if name in ("wte.weight", "lm_head.weight") or ".attn." in name or ".mlp." in name:
                nn.init.normal_(p, 0.0, out_std if name.endswith(".c_proj.weight") else cfg.init_std)

    def forward(self, idx):  # (B, T) -> logits (B, T, V)
        B, T = idx.size()
        x = self.wte(idx)                                                       # (B, T, d)
        if self.cfg.streams:
            x = x.unsqueeze(2).expand(B, T, self.cfg.n, self.cfg.d_model)      # (B, T, n, d)
        dense, history = self.cfg.variant == "denseformer", [x]                # DenseFormer: X_0, X_1, ..
        if self.cfg.variant == "mudd":
            streams = [x] * 4                                                   # Q, K, V, R of the next block
            for block in self.h:
                history.append(block.forward_mudd(streams))                     # X_0 .. X_{i+1}
                streams = block.mudd(history)
            x = streams[-1]                                                     # the last aggregation's R
        else:
            for block in self.h:
                x = block(x)
                if dense:
                    history.append(x)
                    x = block.average(history)
        if self.cfg.streams:
            x = x.mean(2) if self.cfg.reduce == "mean" else x.sum(2)           # (B, T, d)
        if self.ln_f is not None:
            x = self.ln_f(x)
        return self.lm_head(x) if self.lm_head is not None else F.linear(x, self.wte.weight)

    def loss(self, idx, targets):
        logits = self.forward(idx)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))

    def moe_aux_loss(self):
        """gpt.cpp's moe_aux_loss of the latest forward: moe_lb_weight L_LB + moe_z_weight L_RZ, L_LB the mean over
        layers of their lb (times k for moe_lb_convention "hf"), L_RZ the mean (moe_z_reduce "sum": the sum) of
        their z; None for a dense FFN."""
        if self.cfg.ffn != "moe":
            return None
        c, L = self.cfg, len(self.h)
        lb, z = self.h[0].mlp.lb, self.h[0].mlp.z
        for block in self.h[1:]:
            lb, z = lb + block.mlp.lb, z + block.mlp.z
        lb_scale = (c.moe_top_k if c.moe_lb_convention == "hf" else 1.0) / L
        z_scale = 1.0 if c.moe_z_reduce == "sum" else 1.0 / L
        return c.moe_lb_weight * lb_scale * lb + c.moe_z_weight * z_scale * z


def decays(name):
    """param_specs.cpp: embeddings, attention and FFN matrices, the DHC/DFC projections, LAuReL's low rank and
    MUDDFormer's w1, w2 decay; static HC/FC, scales, norm gains, LAuReL's rw, DenseFormer's dwa_weights and
    MUDDFormer's a don't."""
    leaf = name.rsplit(".", 1)[-1]
    if ".hc_" in name or ".mudd." in name:
        return leaf in ("dynamic_alpha_fn", "dynamic_beta_fn", "phi_pre", "phi_post", "phi_res", "lr_a", "lr_b",
                        "w1", "w2")
    if name == "ln_f.weight" or any(name.endswith(f".{n}.weight") for n in ("ln_1", "ln_2", "ln_1k", "ln_1v")):
        return False
    return leaf != "dwa_weights"


def make_optimizer(model, cfg):
    """AdamW in two groups, as trainer.cpp's make_optimizer."""
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if decays(n)], "weight_decay": cfg.weight_decay},
              {"params": [p for n, p in named if not decays(n)], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=1e-8)


def learning_rate(cfg, step):
    """schedule.cpp, cosine: linear warmup from 0, then cosine down to lr * min_lr_ratio on the last step."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    last = max(cfg.steps - 1, cfg.warmup_steps)
    t = min(max((step - cfg.warmup_steps) / max(last - cfg.warmup_steps, 1), 0.0), 1.0)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * t))


def train_step(model, opt, params, cfg, step, x, y, bf16=False):
    """One optimizer step as trainer.cpp's train_step: returns (loss, grad norm before clipping). ffn "moe": the
    gradient is of the cross-entropy plus the aux losses; the loss returned is the cross-entropy, as hcx logs it."""
    for group in opt.param_groups:
        group["lr"] = learning_rate(cfg, step)
    opt.zero_grad(set_to_none=False)
    if bf16:  # the sublayers' matmuls in bf16; norm() and the mixers cast to float32 themselves
        with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16):
            loss = model.loss(x, y)
            aux = model.moe_aux_loss()
    else:
        loss = model.loss(x, y)
        aux = model.moe_aux_loss()
    (loss if aux is None else loss + aux).backward()
    grad_norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip))
    loss = loss.item()
    if math.isfinite(loss) and math.isfinite(grad_norm):
        opt.step()
    return loss, grad_norm


def time_training(args):
    """Trains warmup + steps steps on random windows of a random corpus; times the last `steps`."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = Config(d_model=args.d_model, n_layers=args.layers, n_heads=args.heads, seq_len=args.seq,
                 vocab_size=args.vocab, variant=args.variant, n=args.n, ffn=args.ffn, steps=args.warmup + args.steps)
    device = torch.device(args.device)
    model = Gpt(cfg).to(device)
    opt = make_optimizer(model, cfg)
    params = [p for p in model.parameters() if p.requires_grad]
    corpus = torch.randint(0, cfg.vocab_size, (1 << 20,))  # like hcx's synthetic corpus: 1M tokens in memory
    offsets = torch.arange(cfg.seq_len + 1)
    bf16 = args.dtype == "bfloat16"
    gen = torch.Generator().manual_seed(args.seed)

    def batch():  # (B, T) windows and their next tokens, as data::train_batch
        starts = torch.randint(0, corpus.numel() - cfg.seq_len - 1, (args.batch, 1), generator=gen)
        w = corpus[starts + offsets]
        return w[:, :-1].contiguous().to(device), w[:, 1:].contiguous().to(device)

    first_loss = None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            start = time.perf_counter()
        if step == args.warmup and device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        loss, _ = train_step(model, opt, params, cfg, step, *batch(), bf16=bf16)  # .item(): synchronises
        first_loss = loss if first_loss is None else first_loss
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    print(json.dumps({"impl": "pytorch", "variant": args.variant, "d_model": args.d_model, "threads": args.threads,
                      "device": args.device, "dtype": args.dtype, "peak_cuda_bytes": peak,
                      "steps": args.steps, "seconds": seconds,
                      "tokens_per_s": args.steps * args.batch * args.seq / seconds,
                      "params": sum(p.numel() for p in model.parameters()), "first_loss": first_loss,
                      "torch": torch.__version__}))


def read_tensor(directory, entry):
    with open(os.path.join(directory, entry["file"]), "rb") as f:
        data = bytearray(f.read())
    dtype = {"float32": torch.float32, "int64": torch.int64}[entry["dtype"]]
    return torch.frombuffer(data, dtype=dtype).reshape(entry["shape"]).clone()


def check(args):
    """Recomputes what train_bench --check recorded from the same weights and batch; prints the differences."""
    with open(os.path.join(args.dir, "check.json")) as f:
        spec = json.load(f)
    m = spec["config"]
    cfg = Config(d_model=m["d_model"], n_layers=m["n_layers"], n_heads=m["n_heads"], seq_len=m["seq_len"],
                 vocab_size=m["vocab_size"], variant=m["variant"], n=m["n"], steps=m["steps"],
                 warmup_steps=m["warmup_steps"])
    torch.set_num_threads(1)
    model = Gpt(cfg)
    mine = dict(model.named_parameters())
    names = [p["name"] for p in spec["params"]]
    if names != list(mine):
        print(json.dumps({"ok": False, "why": "parameter names or order differ", "hcx": names, "pytorch": list(mine)}))
        return 1
    with torch.no_grad():
        for p in spec["params"]:
            mine[p["name"]].copy_(read_tensor(args.dir, p))
    x, y = read_tensor(args.dir, spec["x"]), read_tensor(args.dir, spec["y"])
    opt = make_optimizer(model, cfg)
    params = [p for p in model.parameters() if p.requires_grad]
    losses, norms = [], []
    for step in range(len(spec["losses"])):
        loss, grad_norm = train_step(model, opt, params, cfg, step, x, y)
        losses.append(loss)
        norms.append(grad_norm)
    n_params = sum(p.numel() for p in model.parameters())
    loss_diff = max(abs(a - b) for a, b in zip(losses, spec["losses"]))
    norm_diff = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(norms, spec["grad_norms"]))
    weight_diff = max(float((mine[p["name"]] - read_tensor(args.dir, p)).abs().max()) for p in spec["after"])
    ok = n_params == spec["n_params"] and loss_diff < 1e-4 and norm_diff < 1e-3 and weight_diff < 1e-4
    print(json.dumps({"ok": ok, "variant": cfg.variant, "params_hcx": spec["n_params"], "params_pytorch": n_params,
                      "losses_hcx": spec["losses"], "losses_pytorch": losses, "max_loss_diff": loss_diff,
                      "max_grad_norm_rel_diff": norm_diff, "max_weight_diff_after": weight_diff}))
    return 0 if ok else 1


# ---------------------------------------------------------------------------- hcx export folders

SAFETENSORS_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
                      "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
                      "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    """{name: tensor} of a safetensors file, in the header's order; __metadata__ is skipped.
    The format: u64 little-endian header length N, N bytes of JSON, then the tensors' bytes."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        dtype = SAFETENSORS_DTYPES[e["dtype"]]
        itemsize = torch.empty((), dtype=dtype).element_size()
        if end > begin:
            t = torch.frombuffer(data, dtype=dtype, count=(end - begin) // itemsize, offset=begin)
        else:
            t = torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out


def load(export_dir, device="cpu"):
    """The model of an `hcx export` folder with its weights, in eval mode on `device`."""
    with open(os.path.join(export_dir, "config.json")) as f:
        info = json.load(f)
    model = Gpt(Config.from_hcx(info["config"]))
    weights = read_safetensors(os.path.join(export_dir, info.get("weights", "model.safetensors")))
    names = [n for n, _ in model.named_parameters()]
    if sorted(names) != sorted(weights):
        raise ValueError(f"{export_dir}: the weights do not fit the model of its config.json: "
                         f"missing {sorted(set(names) - set(weights))}, unexpected {sorted(set(weights) - set(names))}")
    model.load_state_dict(weights, strict=True)
    return model.to(device).eval()


def logits(args):
    """Recomputes the logits `hcx export --logits-for` wrote to DIR/logits.json; prints the largest difference."""
    torch.set_num_threads(1)
    model = load(args.dir)
    with open(os.path.join(args.dir, "logits.json")) as f:
        ref = json.load(f)
    idx = torch.tensor(ref["tokens"], dtype=torch.int64)
    want = torch.tensor(ref["logits"], dtype=torch.float32)
    with torch.no_grad():
        got = model(idx).float()
    diff = float((got - want).abs().max()) if got.shape == want.shape else float("inf")
    ok = diff <= args.tol
    print(json.dumps({"ok": ok, "variant": model.cfg.variant, "shape": list(got.shape),
                      "max_abs_diff": diff, "max_abs_logit": float(want.abs().max()), "torch": torch.__version__}))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("time", help="time training steps, print one JSON line")
    t.add_argument("--d-model", type=int, default=128)
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--seq", type=int, default=128)
    t.add_argument("--vocab", type=int, default=256)
    t.add_argument("--variant", choices=["pre_norm", "dhc", "shc", "mhc", "dfc", "sfc", "laurel", "denseformer",
                                         "mudd"], default="pre_norm")
    t.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    t.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
                   help="bfloat16: autocast, the mixing, norms and loss in float32")
    t.add_argument("--n", type=int, default=4, help="HC/mHC streams; DFC/SFC frac rate")
    t.add_argument("--ffn", choices=["swiglu", "gelu", "moe"], default="swiglu", help="moe: 8 experts, top-2")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--warmup", type=int, default=5)
    t.add_argument("--steps", type=int, default=40)
    t.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("check", help="compare with the losses train_bench --check wrote")
    c.add_argument("dir")
    g = sub.add_parser("logits", help="compare with the logits hcx export --logits-for wrote")
    g.add_argument("dir")
    g.add_argument("--tol", type=float, default=1e-5)
    args = ap.parse_args()
    if args.cmd == "time":
        time_training(args)
        return 0
    return logits(args) if args.cmd == "logits" else check(args)


if __name__ == "__main__":
    sys.exit(main())
