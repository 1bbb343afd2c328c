#!/usr/bin/env python3
"""Python reference for `semifer bench infer`: the torchvision model in eval
mode under torch.inference_mode, eager, on random input, on the CPU.

    /usr/bin/python3 bench/infer_reference.py --model efficientnet_b0 --size 224 --batch 16 --threads 2
"""
import argparse
import time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="efficientnet_b0")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = getattr(torchvision.models, args.model)(num_classes=8).eval()
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, args.size, args.size)
    with torch.inference_mode():
        for _ in range(2):
            model(x)
        images, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            model(x)
            images += args.batch
        elapsed = time.perf_counter() - start
    print(f"{images / elapsed:.1f} images/s ({images} images in {elapsed:.1f} s, {args.model}, "
          f"size {args.size}, batch {args.batch}, threads {args.threads}, python reference)")


if __name__ == "__main__":
    main()
