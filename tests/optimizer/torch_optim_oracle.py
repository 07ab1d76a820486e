"""Oracle for tests/optimizer: torch.optim over 5 steps with fixed gradients, three stages
(conv1 distance 2, layer1 distance 1, fc distance 0) as param groups with layer-wise lr decay,
no weight decay on the BN-like vector, optionally a frozen stage and a schedule.
Prints JSON: {config_name: {"params": {name: [...]}, "lrs": [[lr per group] per step]}}.
"""
import json
import math

import torch

torch.manual_seed(0)
init = {"conv1.weight": torch.randn(4, 3), "layer1.bn.weight": torch.randn(4), "fc.weight": torch.randn(2, 4)}
stage = {"conv1.weight": "conv1", "layer1.bn.weight": "layer1", "fc.weight": "fc"}
distance = {"conv1": 2, "layer1": 1, "fc": 0}
grads = [{k: torch.randn_like(v) for k, v in init.items()} for _ in range(5)]
configs = {
    "sgd": dict(opt="sgd", lr=0.1, momentum=0.9, nesterov=True, wd=0.01, decay=0.5, freeze=[], sched=None),
    "sgd_plain": dict(opt="sgd", lr=0.1, momentum=0.0, nesterov=False, wd=0.0, decay=1.0, freeze=[], sched=None),
    "adam": dict(opt="adam", lr=0.01, wd=0.01, decay=0.7, freeze=["conv1"], sched=None),
    "adamw_cosine": dict(opt="adamw", lr=0.01, wd=0.05, decay=0.6, freeze=[], sched="cosine"),
    "adam_onecycle": dict(opt="adam", lr=0.01, wd=0.0, decay=0.8, freeze=[], sched="onecycle"),
}
out = {}
for name, c in configs.items():
    params = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    groups = []
    for k, p in params.items():
        if stage[k] in c["freeze"]:
            continue
        wd = 0.0 if "bn" in k else c["wd"]
        groups.append({"params": [p], "lr": c["lr"] * c["decay"] ** distance[stage[k]], "weight_decay": wd})
    if c["opt"] == "sgd":
        opt = torch.optim.SGD(groups, lr=c["lr"], momentum=c["momentum"], nesterov=c["nesterov"])
    elif c["opt"] == "adam":
        opt = torch.optim.Adam(groups, lr=c["lr"])
    else:
        opt = torch.optim.AdamW(groups, lr=c["lr"])
    sched = None
    if c["sched"] == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0.0)
    elif c["sched"] == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups], total_steps=5)
    lrs = []
    for t in range(5):
        for k, p in params.items():
            p.grad = grads[t][k].clone()
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.step()
        if sched:
            sched.step()
    out[name] = {"params": {k: p.detach().flatten().tolist() for k, p in params.items()}, "lrs": lrs}
out["init"] = {k: v.flatten().tolist() for k, v in init.items()}
out["grads"] = [{k: g.flatten().tolist() for k, g in gs.items()} for gs in grads]
print(json.dumps(out))
