#!/usr/bin/env python3
"""PyTorch side of simdnn's agreement check (issue 15): reads the numbers simdnn used as JSON on
stdin and prints what torch computes on them as JSON on stdout, in float64.

  nadam:     torch.optim.NAdam(foreach=True) for len(grads) steps from theta with the given
             gradients (foreach=True: torch 1.13's default single-tensor path counts mu_t twice,
             pytorch#92699).
  weighted:  Keras sample-weight semantics, per-sample loss x weight then mean over the batch size:
             cross-entropy on logits with integer labels, and MSE (per-sample mean over outputs);
             loss and d loss / d pred.
  smoothing: F.cross_entropy(label_smoothing=eps) on labels and on probability targets, and
             binary cross-entropy with logits on targets t(1 - eps) + eps/2; loss and gradient.

Run by test/train/torch.test.ts (LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread
/usr/bin/python3 bench/torch_check.py < input.json).
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def t(v):
    return torch.tensor(v, dtype=torch.float64)


def loss_and_grad(pred, f):
    p = t(pred).requires_grad_(True)
    loss = f(p)
    loss.backward()
    return {"loss": loss.item(), "grad": p.grad.flatten().tolist()}


def nadam(c, foreach=True):
    theta = t(c["theta"]).requires_grad_(True)
    opt = torch.optim.NAdam([theta], lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"],
                            momentum_decay=c["momentumDecay"], foreach=foreach)
    out = []
    for g in c["grads"]:
        opt.zero_grad()
        theta.grad = t(g)
        opt.step()
        out.append(theta.detach().clone().tolist())
    return out


def weighted(c):
    M, N = c["M"], c["N"]
    sw = t(c["sw"])
    labels = torch.tensor(c["labels"], dtype=torch.long)
    z = lambda p: p.reshape(M, N)
    return {
        "xent": loss_and_grad(c["logits"], lambda p: (F.cross_entropy(z(p), labels, reduction="none") * sw).mean()),
        "mse": loss_and_grad(c["pred"], lambda p: (((z(p) - t(c["target"]).reshape(M, N)) ** 2).mean(dim=1) * sw).mean()),
    }


def smoothing(c):
    M, N, eps = c["M"], c["N"], c["eps"]
    labels = torch.tensor(c["labels"], dtype=torch.long)
    z = lambda p: p.reshape(M, N)
    probs = t(c["probs"]).reshape(M, N)
    bin_t = t(c["binary"]).reshape(M, N) * (1 - eps) + eps / 2
    return {
        "xent": loss_and_grad(c["logits"], lambda p: F.cross_entropy(z(p), labels, label_smoothing=eps)),
        "xentSoft": loss_and_grad(c["logits"], lambda p: F.cross_entropy(z(p), probs, label_smoothing=eps)),
        "bce": loss_and_grad(c["logits"], lambda p: F.binary_cross_entropy_with_logits(z(p), bin_t)),
    }


def main():
    c = json.load(sys.stdin)
    print(json.dumps({
        "torch": torch.__version__,
        "nadam": nadam(c["nadam"]),
        # torch 1.13's default path, for the record of pytorch#92699 (simdnn does not follow it)
        "nadamSingleTensor": nadam(c["nadam"], foreach=False),
        "weighted": weighted(c["weighted"]),
        "smoothing": smoothing(c["smoothing"]),
    }))


if __name__ == "__main__":
    main()
