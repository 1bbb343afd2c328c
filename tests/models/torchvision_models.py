#!/usr/bin/env python3
"""Reference models for tests/models/torchvision_parity_test.cpp.

    torchvision_models.py make OUT SIZE ARCH...
        For each ARCH: torchvision.models.ARCH(num_classes=8) with random
        weights and random BatchNorm statistics, in eval mode; writes
        OUT/ARCH.pth (torch.save(model.state_dict()), an OrderedDict, as
        published weights are), OUT/ARCH.x (input [2, 3, SIZE, SIZE]) and
        OUT/ARCH.y (logits [2, 8]) as raw float32, and OUT/ARCH.keys (the
        state_dict keys, one per line).
    torchvision_models.py loads OUT ARCH...
        For each ARCH: strict torchvision.models.ARCH(num_classes=8)
        .load_state_dict(torch.load(OUT/ARCH.pth)) on a file semifer wrote;
        prints "ARCH ok" or "ARCH FAILED: why".
    torchvision_models.py check OUT ARCH PTH
        Loads PTH (written by semifer) into torchvision.models.ARCH(
        num_classes=8) with load_state_dict (strict), runs OUT/ARCH.x and
        prints the largest absolute difference from OUT/ARCH.semifer.y.
"""
import sys

import torch
import torchvision


def make(out, size, arch):
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(num_classes=8)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)
    model.eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        y = model(x)
    torch.save(model.state_dict(), f"{out}/{arch}.pth")
    x.numpy().tofile(f"{out}/{arch}.x")
    y.numpy().tofile(f"{out}/{arch}.y")
    with open(f"{out}/{arch}.keys", "w") as f:
        f.write("\n".join(model.state_dict().keys()) + "\n")


def check(out, arch, pth):
    model = getattr(torchvision.models, arch)(num_classes=8)
    model.load_state_dict(torch.load(pth))
    model.eval()
    import numpy as np

    x = torch.from_numpy(np.fromfile(f"{out}/{arch}.x", dtype=np.float32))
    x = x.reshape(2, 3, int((x.numel() // 6) ** 0.5), -1)
    ours = torch.from_numpy(np.fromfile(f"{out}/{arch}.semifer.y", dtype=np.float32)).reshape(2, 8)
    with torch.no_grad():
        y = model(x)
    print(f"{(y - ours).abs().max().item():.3e}")


def loads(out, arch):
    try:
        model = getattr(torchvision.models, arch)(num_classes=8)
        state = torch.load(f"{out}/{arch}.pth", weights_only=True)
        model.load_state_dict(state)
        if list(state.keys()) != list(model.state_dict().keys()):
            raise ValueError("key order differs")
        print(f"{arch} ok")
    except Exception as e:  # reported to the C++ test
        print(f"{arch} FAILED: {e}".replace("\n", " "))


if __name__ == "__main__":
    if sys.argv[1] == "loads":
        for arch in sys.argv[3:]:
            loads(sys.argv[2], arch)
    elif sys.argv[1] == "make":
        for arch in sys.argv[4:]:
            make(sys.argv[2], int(sys.argv[3]), arch)
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4])
