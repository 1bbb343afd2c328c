#!/usr/bin/env python3
"""Python reference for `semifer bench pipeline`: the same work with PIL and
torchvision (Debian python3-torchvision), one process, one thread.

Per sample: decode (PIL), convert to RGB, resize to SIZE (bilinear), then
  weak   = RandomHorizontalFlip, RandomCrop(SIZE, padding=12.5%, reflect),
           ColorJitter(0.4, 0.4, 0.4), ToTensor, Normalize(ImageNet)
  strong = RandomHorizontalFlip, RandomCrop(same), RandAugment(2, 10),
           Cutout (gray square up to half the side, FixMatch), ToTensor,
           Normalize
and both views are stacked into batches of BATCH, as a DataLoader's collate
would.

    /usr/bin/python3 bench/pipeline_reference.py --images DIR --size 224 --seconds 10
"""
import argparse
import glob
import os
import random
import time

import torch
import torchvision.transforms as T
from PIL import Image, ImageDraw

torch.set_num_threads(1)


class Cutout:
    """FixMatch's CutoutAbs with v = U(0, 0.5) * width, gray fill."""

    def __call__(self, img):
        w, h = img.size
        v = random.uniform(0, 0.5) * w
        x0, y0 = random.uniform(0, w), random.uniform(0, h)
        x0, y0 = int(max(0, x0 - v / 2.0)), int(max(0, y0 - v / 2.0))
        x1, y1 = int(min(w, x0 + v)), int(min(h, y0 + v))
        img = img.copy()
        ImageDraw.Draw(img).rectangle((x0, y0, x1, y1), fill=(127, 127, 127))
        return img


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    files = sorted(
        f
        for f in glob.glob(os.path.join(args.images, "**", "*"), recursive=True)
        if f.lower().endswith((".jpg", ".jpeg", ".png"))
    )
    size, pad = args.size, int(round(args.size * 0.125))
    tail = [T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
    geometry = [T.RandomHorizontalFlip(), T.RandomCrop(size, padding=pad, padding_mode="reflect")]
    weak = T.Compose(geometry + [T.ColorJitter(0.4, 0.4, 0.4)] + tail)
    strong = T.Compose(geometry + [T.RandAugment(2, 10), Cutout()] + tail)

    def step(start):
        ws, ss = [], []
        for k in range(args.batch):
            path = files[(start + k) % len(files)]
            img = Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR)
            ws.append(weak(img))
            ss.append(strong(img))
        return torch.stack(ws), torch.stack(ss)

    n = 0
    warm_end = time.perf_counter() + 0.5
    while time.perf_counter() < warm_end:
        step(n)
        n += args.batch
    samples, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        step(n + samples)
        samples += args.batch
    elapsed = time.perf_counter() - start
    print(f"{samples / elapsed:.1f} samples/s ({samples} samples in {elapsed:.1f} s, size {size}, python reference)")


if __name__ == "__main__":
    main()
