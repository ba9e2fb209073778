"""Training-step cost of FSFM 3C against MAE on the same model, same run.

The ID branch adds a rep decoder + projector/predictor on the masked view and a full-image
(196-token) target forward; the target ratio is fsfm/mae step time <= 1.6. Times are medians of
interleaved steps (the machine is shared); peak memory is measured per algorithm
(CUDA: torch.cuda.max_memory_allocated; CPU: parameters + gradients + AdamW state + buffers +
the tensors autograd saves for backward, counted with saved_tensors_hooks).

    python benchmarks/pretrain_step.py                       # ViT-S/16, batch 8, CPU
    python benchmarks/pretrain_step.py --model vit_base --batch 64 --device cuda --amp bf16
    python benchmarks/pretrain_step.py --model vit_base --flops-only   # GFLOP/image, no timing
    ... --dedup false       # the literal online rep decoder (147 mask tokens) instead of the dedup
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

TINY = dict(preset=None, img_size=64, patch_size=16, embed_dim=64, depth=2, num_heads=2,
            decoder_embed_dim=64, decoder_depth=1, decoder_num_heads=2, rep_decoder_depth=1,
            rep_decoder_num_heads=2, projection_size=32, projection_hidden_size=64)


def model_cfg(name: str) -> dict:
    if name == "tiny":
        return dict(TINY)
    return dict(preset=name, img_size=224, patch_size=16)


def parsing_maps(batch: int, size: int, device: str) -> torch.Tensor:
    try:
        from fsfm_bench_plugins.masking.synthetic import face_maps

        return face_maps(batch, size, torch.Generator().manual_seed(0), device=device)
    except ImportError:  # masking plugin absent: any labels do for timing
        return torch.randint(0, 11, (batch, size, size), dtype=torch.int8, device=device)


class Step:
    """One optimiser step of the engine's computation: autocast forward, backward, clip 1.0,
    AdamW (the official groups), EMA update of the target."""

    def __init__(self, algo: str, model: str, batch: int, device: str, amp: str, masking: str,
                 compile_model: bool = False, dedup: bool = True, compile_blocks: bool = False):
        from fsfm_bench.pretrain.factory import build_pretrainer
        from fsfm_bench.pretrain.hooks import EMATargetHook
        from fsfm_bench.pretrain.optim import weight_decay_groups

        cfg = model_cfg(model)
        cfg["dedup_rep_mask_tokens"] = dedup
        self.net = build_pretrainer(cfg, {}, {"name": masking}, id_branch=(algo == "fsfm")).to(device)
        self.net.train()
        size = self.net.img_size
        g = torch.Generator().manual_seed(1)
        self.imgs = torch.randn(batch, 3, size, size, generator=g).to(device)
        self.maps = parsing_maps(batch, size, device)
        groups, _, _ = weight_decay_groups(self.net, 0.05)
        fused = device == "cuda"
        self.opt = torch.optim.AdamW(groups, lr=1e-4, betas=(0.9, 0.95), fused=fused)
        self.device, self.batch = device, batch
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
        self.scaler = torch.amp.GradScaler(device) if amp == "fp16" else None
        self.ema = EMATargetHook.update
        self.forward = torch.compile(self.net) if compile_model else self.net
        if compile_blocks:
            compile_transformer_blocks(self.net)

    def __call__(self) -> float:
        with torch.autocast(self.device, dtype=self.dtype or torch.float32, enabled=self.dtype is not None):
            loss = self.forward(self.imgs, self.maps)["loss"]
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.opt)
        else:
            loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        if self.scaler is not None:
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.ema(self.net, 0.996)
        self.net.num_micro_batches += 1
        return float(loss.detach())

    def sync(self) -> None:
        if self.device == "cuda":
            torch.cuda.synchronize()


def compile_transformer_blocks(net: torch.nn.Module) -> int:
    """Regional compilation: ``torch.compile`` each timm transformer Block in place (the encoder,
    its EMA target copy and the decoders), leaving the masking and the loss eager. Whole-model
    compile breaks its graph at the masking's generator and ``.item()`` calls; the blocks hold the
    unfused LayerNorm / bf16<->fp32 casts / residual adds that the profile shows around the matmuls."""
    from timm.models.vision_transformer import Block

    blocks = [m for m in net.modules() if isinstance(m, Block)]
    for block in blocks:
        block.compile()
    return len(blocks)


def cpu_step_memory(step: Step) -> float:
    """MiB a CPU step holds at its peak: parameters, gradients, AdamW state, buffers (incl. the EMA
    target) and the tensors autograd saves for backward (deduplicated by storage)."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        try:
            st = t.untyped_storage()
            seen[st.data_ptr()] = st.nbytes()
        except (RuntimeError, NotImplementedError):
            pass
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    state = sum(p.numel() * p.element_size() * (4 if p.requires_grad else 1) for p in step.net.parameters())
    state += sum(b.numel() * b.element_size() for b in step.net.buffers())
    return (state + sum(seen.values())) / 2**20


def step_gflop_per_image(args: argparse.Namespace, algo: str) -> float:
    """FLOPs of one whole step (forward + backward + optimiser) at batch 1, counted by
    torch.utils.flop_counter (matmuls and attention; elementwise ops are not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    step = Step(algo, args.model, 1, args.device, args.amp, args.masking, dedup=args.dedup)
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return counter.get_total_flops() / 1e9


def flops(args: argparse.Namespace) -> dict:
    out = {a: round(step_gflop_per_image(args, a), 2) for a in ("fsfm", "mae")}
    return {"gflop_per_image_fsfm": out["fsfm"], "gflop_per_image_mae": out["mae"],
            "flop_ratio_fsfm_over_mae": round(out["fsfm"] / out["mae"], 3)}


def peak_memory(args: argparse.Namespace, algo: str) -> float:
    dedup = args.dedup and algo != "fsfm_literal"
    step = Step(algo.split("_")[0], args.model, args.batch, args.device, args.amp, args.masking,
                dedup=dedup)
    if args.device != "cuda":
        return cpu_step_memory(step)
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    for _ in range(2):
        step()
    step.sync()
    return torch.cuda.max_memory_allocated() / 2**20


def measure(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    algos = ("fsfm", "mae") + (("fsfm_literal",) if args.with_literal else ())
    steps = {a: Step(a.split("_")[0], args.model, args.batch, args.device, args.amp, args.masking,
                     args.compile, dedup=args.dedup and a != "fsfm_literal") for a in algos}
    for s in steps.values():          # warm-up (and compile)
        for _ in range(args.warmup):
            s()
        s.sync()
    times: dict[str, list[float]] = {a: [] for a in steps}
    for _ in range(args.steps):       # interleaved so both see the same machine load
        for a, s in steps.items():
            t0 = time.perf_counter()
            s()
            s.sync()
            times[a].append(time.perf_counter() - t0)
    del steps
    peaks = {a: peak_memory(args, a) for a in algos}
    out = {"model": args.model, "batch": args.batch, "device": args.device, "amp": args.amp,
           "threads": args.threads, "masking": args.masking, "dedup_rep_mask_tokens": args.dedup}
    for a in algos:
        med = statistics.median(times[a])
        out[a] = {"step_s": round(med, 4), "images_per_s": round(args.batch / med, 2),
                  "peak_mem_mib": round(peaks[a], 1)}
    out["time_ratio_fsfm_over_mae"] = round(out["fsfm"]["step_s"] / out["mae"]["step_s"], 3)
    out["memory_ratio_fsfm_over_mae"] = round(out["fsfm"]["peak_mem_mib"] / max(out["mae"]["peak_mem_mib"], 1e-9), 3)
    if "fsfm_literal" in out:
        out["time_ratio_fsfm_literal_over_mae"] = round(out["fsfm_literal"]["step_s"] / out["mae"]["step_s"], 3)
        out["time_ratio_fsfm_over_fsfm_literal"] = round(out["fsfm"]["step_s"] / out["fsfm_literal"]["step_s"], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="vit_small", help="vit_small | vit_base | vit_large | tiny")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--amp", default="fp32", choices=["fp32", "bf16", "fp16"])
    p.add_argument("--masking", default="crfr_p")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--compile", action="store_true")
    p.add_argument("--dedup", default="true", choices=["true", "false"],
                   help="model.dedup_rep_mask_tokens (false: the literal 197-token online rep decoder)")
    p.add_argument("--with-literal", action="store_true",
                   help="also time fsfm with the literal rep decoder (dedup off), interleaved")
    p.add_argument("--flops", action="store_true", help="also count GFLOP per image (batch-1 step)")
    p.add_argument("--flops-only", action="store_true", help="only count GFLOP per image")
    args = p.parse_args(argv)
    args.dedup = args.dedup == "true"
    torch.set_num_threads(args.threads)
    if args.flops_only:
        out = {"model": args.model, "dedup_rep_mask_tokens": args.dedup, **flops(args)}
    else:
        out = measure(args)
        if args.flops:
            out.update(flops(args))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
