#!/usr/bin/env python3
"""Python eager PyTorch's semi-supervised step, the reference of `semifer
bench train` (issue 14; bench/run_train.sh runs both side by side).

The step is semifer's default recipe: one forward over [labeled weak;
unlabeled weak; unlabeled strong], pseudo-labels from the mean of the two
views' probabilities kept above a per-class threshold, L = CE(labeled) +
masked CE(strong, pseudo), Adam (foreach), an EMA teacher with _foreach ops;
bf16 autocast and channels_last on CUDA. images/s counts labeled +
unlabeled samples per step, as semifer does.

  /usr/bin/python3 bench/train_reference.py --model resnet18 --size 112 --threads 2
  python3 bench/train_reference.py --device cuda --model efficientnet_b0 --size 224 --images DIR
"""
import argparse
import collections
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import transforms as T


def smallnet(num_classes):
    layers, cin = [], 3
    for w in (24, 48, 96, 192):
        for stride, c in ((2, cin), (1, w)):
            layers += [nn.Conv2d(c, w, 3, stride, 1, bias=False),
                       nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
        cin = w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Dropout(0.2), nn.Linear(192, num_classes))


def make_model(name, num_classes):
    if name == "smallnet":
        return smallnet(num_classes)
    return getattr(torchvision.models, name)(num_classes=num_classes)


class Views(torch.utils.data.Dataset):
    """Each image of a folder of class folders as (weak, label), or with
    `strong` as (weak, strong, label)."""

    def __init__(self, root, size, strong):
        self.items = torchvision.datasets.ImageFolder(root)
        norm = T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        base = [T.Resize((size, size)), T.RandomHorizontalFlip()]
        crop = T.RandomCrop(size, padding=size // 8, padding_mode="reflect")
        self.weak = T.Compose(base + [crop, T.ColorJitter(0.4, 0.4, 0.4),
                                      T.ToTensor(), norm])
        self.strong = T.Compose(base + [crop, T.RandAugment(2, 10), T.ToTensor(),
                                        T.RandomErasing(1.0, value=0.5), norm])
        self.with_strong = strong

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        img, label = self.items[i]
        img = img.convert("RGB")
        if self.with_strong:
            return self.weak(img), self.strong(img), label
        return self.weak(img), label


def batches(args, device):
    b, u, s = args.batch, args.unlabeled, args.size
    if args.images is None:  # fixed tensors, as `--data synthetic`
        xl, xw, xs = (torch.randn(n, 3, s, s) for n in (b, u, u))
        y = torch.randint(args.classes, (b,))
        if device.type == "cuda":
            xl, xw, xs, y = (t.pin_memory() for t in (xl, xw, xs, y))
        while True:
            yield xl, y, xw, xs
    # The labeled batches need the weak view only; the unlabeled ones both.
    # Each loader gets half the workers (at least one).
    kw = dict(num_workers=max(1, args.workers // 2),
              pin_memory=device.type == "cuda", drop_last=True,
              persistent_workers=args.workers > 0, shuffle=True)
    if args.workers == 0:
        kw.update(num_workers=0, persistent_workers=False)
    labeled = Views(args.images, s, False)
    if len(labeled) < max(b, u):
        raise SystemExit(f"{args.images}: {len(labeled)} images, fewer than a batch")
    # Class-balanced labeled batches, as semifer samples them (each class
    # equally likely, with replacement).
    counts = collections.Counter(labeled.items.targets)
    weights = [1.0 / counts[t] for t in labeled.items.targets]
    balanced = torch.utils.data.WeightedRandomSampler(weights, len(weights))
    lab = torch.utils.data.DataLoader(labeled, batch_size=b, sampler=balanced,
                                      **{k: v for k, v in kw.items()
                                         if k != "shuffle"})
    unl = torch.utils.data.DataLoader(Views(args.images, s, True),
                                      batch_size=u, **kw)
    while True:
        for (xl, y), (xw, xs, _) in zip(lab, unl):
            yield xl, y, xw, xs


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="smallnet")
    p.add_argument("--size", type=int, default=48)
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--unlabeled", type=int, default=32)
    p.add_argument("--classes", type=int, default=8)
    p.add_argument("--images", help="a folder of class folders (default: fixed tensors)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--window", type=int, default=10)
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
    fmt = torch.channels_last if cuda else torch.contiguous_format
    student = make_model(args.model, args.classes).to(device, memory_format=fmt)
    teacher = make_model(args.model, args.classes).to(device, memory_format=fmt)
    teacher.load_state_dict(student.state_dict())
    teacher.eval()
    opt = torch.optim.Adam(student.parameters(), lr=5e-4, foreach=True)
    tp = list(teacher.parameters()) + [b for b in teacher.buffers() if b.is_floating_point()]
    sp = list(student.parameters()) + [b for b in student.buffers() if b.is_floating_point()]
    ti = [b for b in teacher.buffers() if not b.is_floating_point()]
    si = [b for b in student.buffers() if not b.is_floating_point()]
    tau = torch.full((args.classes,), 0.95, device=device)
    data = batches(args, device)
    rates, waits = [], []
    total = args.warmup + args.steps
    t0 = time.perf_counter()
    wait = 0.0
    for step in range(1, total + 1):
        a = time.perf_counter()
        xl, y, xw, xs = next(data)
        wait += time.perf_counter() - a
        xl, y, xw, xs = (t.to(device, non_blocking=True) for t in (xl, y, xw, xs))
        x = torch.cat((xl, xw, xs)).contiguous(memory_format=fmt)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            logits = student(x).float()
        b, u = xl.shape[0], xw.shape[0]
        lw, ls = logits[b:b + u], logits[b + u:]
        with torch.no_grad():
            probs = (lw.softmax(1) + ls.softmax(1)) / 2
            conf, pseudo = probs.max(1)
            mask = (conf > tau[pseudo]).float()  # semifer's mask: above tau
        # semifer's default weights: lambda1 1.0, lambda2 0.8
        loss = F.cross_entropy(logits[:b], y) + 0.8 * (
            F.cross_entropy(ls, pseudo, reduction="none") * mask).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            torch._foreach_mul_(tp, 0.999)
            torch._foreach_add_(tp, sp, alpha=0.001)
            for t, s in zip(ti, si):
                t.copy_(s)
        if step % args.window == 0:
            loss.item()  # the window's read-back, as semifer's metric line
            t1 = time.perf_counter()
            if step > args.warmup:
                rates.append(args.window * (args.batch + args.unlabeled) / (t1 - t0))
                waits.append(wait / (t1 - t0))
            t0, wait = t1, 0.0
    peak = torch.cuda.max_memory_allocated(device) >> 20 if cuda else None
    print(f"{statistics.median(rates):.1f} images/s (median of {len(rates)} windows, "
          f"min {min(rates):.1f}, max {max(rates):.1f}), input wait "
          f"{100 * statistics.median(waits):.1f}%, peak device memory "
          f"{'-' if peak is None else f'{peak} MiB'} ({args.model}, size {args.size}, "
          f"{args.batch}+{args.unlabeled} per step, {device}, "
          f"{torch.get_num_threads()} intra-op threads, "
          f"data {'tensors' if args.images is None else args.images})")


if __name__ == "__main__":
    main()
