"""FSFM's 3C pretraining model (masked image modelling + instance discrimination by
self-distillation) and the MAE baseline as the same model without the ID branch.

Spec: docs/method.md, "Architecture" and "Losses". Parts, each a small module:

- ``encoder``: a timm ``VisionTransformer`` with a fixed 2-D sin-cos position table (its state-dict
  keys are exactly the official encoder keys, so export is a prefix strip);
- ``mask_token``: ONE encoder-width token shared by both decoders;
- ``pixel_decoder``: mask tokens are scattered in at encoder width, THEN ``embed`` to the decoder
  width, + sin-cos table, blocks, norm, per-patch pixel prediction;
- ``rep_decoder`` (ID branch): ``embed`` (width kept), mask tokens, a frozen all-zero position table
  (the official model never fills it), 2 blocks, norm, ``pred``; mean over ALL tokens (cls included);
- ``projector`` / ``predictor``: Linear -> LayerNorm -> ReLU -> Linear;
- ``target``: EMA copy of encoder + mask token + rep decoder + projector, fed the unmasked image.

The online rep decoder's K appended mask tokens are identical (one shared token, zero position
table), so by default (``dedup_rep_mask_tokens``) it runs on the distinct tokens + ONE mask token
whose attention logit is raised by log K (the softmax weight of K equal keys) and which weighs K in
the mean: the same function and gradients on 2+V instead of 1+N tokens (see ``RepDecoder.forward_dedup``).

Loss: ``w_rec * L_rec(masked) + w_sfr * L_rec(covered region) + w_sim * (-0.5 cos(q, z))``.
"""
from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from ..registry import MODELS
from .pos_embed import sincos_2d

LN_EPS = 1e-6
_ln = functools.partial(nn.LayerNorm, eps=LN_EPS)

#: encoder presets (the pixel decoder is 512 x 8 for every size, the rep decoder 2 blocks)
ARCH_PRESETS: dict[str, dict[str, Any]] = {
    # FSFM's ViT-S uses 12 heads (docs/method.md, "Architecture"), not timm's 6; the weights' shapes are equal
    "vit_small": dict(arch="vit_small_patch16_224", embed_dim=384, depth=12, num_heads=12,
                      rep_decoder_num_heads=12),
    "vit_base": dict(arch="vit_base_patch16_224", embed_dim=768, depth=12, num_heads=12,
                     rep_decoder_num_heads=16),
    "vit_large": dict(arch="vit_large_patch16_224", embed_dim=1024, depth=24, num_heads=16,
                      rep_decoder_num_heads=16),
    "vit_tiny": dict(arch="vit_tiny_patch16_224", embed_dim=192, depth=12, num_heads=3,
                     rep_decoder_num_heads=3),
}


def build_encoder(img_size: int, patch_size: int, embed_dim: int, depth: int, num_heads: int,
                  mlp_ratio: float = 4.0, arch: str | None = None) -> nn.Module:
    """The encoder: the registered ``fsfm`` backbone's timm VisionTransformer (cls token, final
    ``norm``, no head), with its position table replaced by the fixed 2-D sin-cos one.

    ``global_pool="token"`` keeps timm's final ``norm`` (the official encoder has it; the
    downstream default "avg" swaps it for a fresh ``fc_norm``). The key names are the official
    ones, so the exported state dict loads back into ``build_backbone("fsfm", checkpoint=...)``.
    Only when no ``fsfm`` backbone is registered is the same timm model built directly.
    """
    from ..errors import UsageError

    arch = arch or f"vit_base_patch{patch_size}_224"
    try:
        import fsfm_bench

        vit = fsfm_bench.build_backbone("fsfm", checkpoint=None, arch=arch, img_size=img_size,
                                        embed_dim=embed_dim, depth=depth, num_heads=num_heads,
                                        global_pool="token", drop_path_rate=0.0).vit
    except UsageError:
        from timm.models.vision_transformer import VisionTransformer

        vit = VisionTransformer(img_size=img_size, patch_size=patch_size, in_chans=3, num_classes=0,
                                embed_dim=embed_dim, depth=depth, num_heads=num_heads,
                                mlp_ratio=mlp_ratio, qkv_bias=True, class_token=True,
                                global_pool="token", norm_layer=_ln)
    if (vit.patch_embed.patch_size[0] != patch_size or vit.embed_dim != embed_dim
            or not isinstance(vit.norm, nn.LayerNorm) or vit.cls_token is None):
        raise ValueError(f"encoder {arch} does not match patch {patch_size}, width {embed_dim} with a "
                         "cls token and a final LayerNorm")
    grid = img_size // patch_size
    vit.pos_embed.requires_grad_(False)
    vit.pos_embed.data.copy_(sincos_2d(embed_dim, grid, cls_token=True))
    return vit


def _blocks(dim: int, depth: int, heads: int, mlp_ratio: float) -> nn.ModuleList:
    from timm.models.vision_transformer import Block

    return nn.ModuleList([Block(dim, heads, mlp_ratio, qkv_bias=True,
                                norm_layer=_ln)
                          for _ in range(depth)])


def mlp_head(dim: int, hidden: int, out: int) -> nn.Sequential:
    """BYOL-style projector/predictor with LayerNorm (indices 0,1,3 as in the official keys)."""
    return nn.Sequential(nn.Linear(dim, hidden), nn.LayerNorm(hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, out))


class PixelDecoder(nn.Module):
    """MIM decoder: full token set at encoder width -> embed -> + sin-cos -> blocks -> pixels."""

    def __init__(self, in_dim: int, dim: int, depth: int, heads: int, num_patches: int,
                 patch_dim: int, mlp_ratio: float = 4.0):
        super().__init__()
        grid = int(round(math.sqrt(num_patches)))
        self.embed = nn.Linear(in_dim, dim)
        self.pos_embed = nn.Parameter(sincos_2d(dim, grid, cls_token=True), requires_grad=False)
        self.blocks = _blocks(dim, depth, heads, mlp_ratio)
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.pred = nn.Linear(dim, patch_dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.pred(self.norm(x))[:, 1:]


class RepDecoder(nn.Module):
    """ID-branch decoder: embed, (mask tokens scattered in by the caller), zero pos, blocks, pred."""

    def __init__(self, dim: int, depth: int, heads: int, num_patches: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.embed = nn.Linear(dim, dim)
        # all zeros and frozen, as in the official model (kept for key/EMA fidelity)
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, dim), requires_grad=False)
        self.blocks = _blocks(dim, depth, heads, mlp_ratio)
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.pred = nn.Linear(dim, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = tokens + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.pred(self.norm(x))

    def pos_embed_is_zero(self) -> bool:
        """Whether the (frozen) position table is all zeros, the condition for ``forward_dedup``.
        Cached on the tensor's version counter, so a training step pays no device sync."""
        key = (self.pos_embed.data_ptr(), self.pos_embed._version)
        if getattr(self, "_zero_checked", None) != key:
            self._zero = not bool(self.pos_embed.detach().any())
            self._zero_checked = key
        return self._zero

    def forward_dedup(self, x: torch.Tensor, mask_token: torch.Tensor, k: int) -> torch.Tensor:
        """Mean over ALL 1+V+K tokens of ``forward`` when the K mask tokens are equal copies of
        ``mask_token`` and the position table is zero: [B, D].

        The decoder runs on the 1+V distinct tokens + ONE mask token. Every block is permutation
        equivariant, so K equal tokens stay equal; as keys they hold K times one token's softmax
        weight, i.e. one key with its logit raised by log K; the mean counts that token K times.
        Autograd sums the gradient of the expanded mask token over its copies, as the literal path.
        The attention runs in float32 so that log K is not rounded under bf16/fp16 autocast.
        """
        b, n, d = x.shape
        if k <= 0:
            return self.forward(x).mean(dim=1)
        x = torch.cat([x, mask_token.to(x.dtype).expand(b, 1, d)], dim=1)
        bias = torch.zeros(1, 1, 1, n + 1, dtype=torch.float32, device=x.device)
        bias[..., -1] = math.log(k)
        for blk in self.blocks:
            x = _biased_block(blk, x, bias)
        out = self.pred(self.norm(x))
        weight = torch.ones(n + 1, dtype=out.dtype, device=out.device)
        weight[-1] = k
        return torch.einsum("bnd,n->bd", out, weight) / (n + k)


def _biased_block(blk: nn.Module, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """timm ``Block.forward`` with a float32 additive attention bias and float32 attention (the
    projections keep the ambient autocast dtype). Mirrors timm 1.0's Block/Attention."""
    attn = blk.attn
    h = blk.norm1(x)
    b, n, c = h.shape
    qkv = attn.qkv(h).reshape(b, n, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    q, k = attn.q_norm(q), attn.k_norm(k)
    with torch.autocast(x.device.type, enabled=False):
        a = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=bias,
                                           dropout_p=attn.attn_drop.p if attn.training else 0.0,
                                           scale=attn.scale)
    a = a.to(q.dtype).transpose(1, 2).reshape(b, n, -1)
    a = attn.proj_drop(attn.proj(attn.norm(a)))
    x = x + blk.drop_path1(blk.ls1(a))
    return x + blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(x))))


def scatter_tokens(cls_vis: torch.Tensor, ids_keep: torch.Tensor, fill: torch.Tensor,
                   num_patches: int) -> torch.Tensor:
    """[B, 1+V, D] (cls + visible in ids_keep order) -> [B, 1+N, D] raster order, ``fill`` elsewhere."""
    b, _, d = cls_vis.shape
    full = fill.to(cls_vis.dtype).expand(b, num_patches, d)
    full = full.scatter(1, ids_keep.unsqueeze(-1).expand(-1, -1, d), cls_vis[:, 1:])
    return torch.cat([cls_vis[:, :1], full], dim=1)


def patchify(imgs: torch.Tensor, p: int) -> torch.Tensor:
    """[B,3,H,W] -> [B, N, p*p*3], patches in raster order, (row, col, channel) inside a patch."""
    b, c, h, w = imgs.shape
    x = imgs.reshape(b, c, h // p, p, w // p, p)
    return torch.einsum("nchpwq->nhwpqc", x).reshape(b, (h // p) * (w // p), p * p * c)


def pixel_targets(imgs: torch.Tensor, p: int, norm_pix: bool = True) -> torch.Tensor:
    t = patchify(imgs, p)
    if norm_pix:
        mean = t.mean(dim=-1, keepdim=True)
        var = t.var(dim=-1, keepdim=True)       # unbiased, as the official code
        t = (t - mean) / (var + 1.0e-6) ** 0.5
    return t


def ids_from_mask(mask: torch.Tensor) -> torch.Tensor:
    """Visible patch indices (mask == 0), ascending: [B, N - K]. Needs the same K per row."""
    counts = (~mask).sum(1)
    if not bool((counts == counts[0]).all()):
        raise ValueError("every row of the mask must hide the same number of patches "
                         f"(got visible counts {sorted(set(counts.tolist()))})")
    return torch.argsort(mask.to(torch.int8), dim=1, stable=True)[:, : int(counts[0])]


@MODELS.register_module()
class FSFMPretrainer(BaseModel):
    """FSFM 3C pretraining (``id_branch=True``) or MAE with FSFM's decoder (``id_branch=False``).

    ``forward(inputs, parsing, mode="loss")`` masks with the configured strategy (batched, on the
    device, from a CPU generator seeded by (seed, rank, micro-batch count) so that resume is exact), or takes
    an explicit ``mask``/``focus``/``ids_keep`` (parity tests).
    """

    def __init__(self, img_size: int = 224, patch_size: int = 16, embed_dim: int = 768,
                 depth: int = 12, num_heads: int = 12, mlp_ratio: float = 4.0,
                 decoder_embed_dim: int = 512, decoder_depth: int = 8, decoder_num_heads: int = 16,
                 rep_decoder_depth: int = 2, rep_decoder_num_heads: int = 16,
                 projection_size: int = 256, projection_hidden_size: int = 4096,
                 norm_pix_loss: bool = True, id_branch: bool = True,
                 weight_rec: float = 1.0, weight_sfr: float = 0.007, weight_sim: float = 0.1,
                 masking: str | Callable | None = "crfr_p", mask_ratio: float = 0.75,
                 masking_kwargs: dict | None = None, seed: int = 0, arch: str | None = None,
                 dedup_rep_mask_tokens: bool = True,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if img_size % patch_size:
            raise ValueError(f"img_size {img_size} is not a multiple of patch_size {patch_size}")
        self.img_size, self.patch_size = img_size, patch_size
        self.num_patches = (img_size // patch_size) ** 2
        self.norm_pix_loss, self.id_branch = norm_pix_loss, id_branch
        self.dedup_rep_mask_tokens = bool(dedup_rep_mask_tokens)
        self.weights = dict(rec=weight_rec, sfr=weight_sfr, sim=weight_sim)
        self.mask_ratio, self.seed = mask_ratio, seed
        self.arch_cfg = dict(img_size=img_size, patch_size=patch_size, embed_dim=embed_dim,
                             depth=depth, num_heads=num_heads, mlp_ratio=mlp_ratio, arch=arch)

        self.encoder = build_encoder(img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio, arch)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pixel_decoder = PixelDecoder(embed_dim, decoder_embed_dim, decoder_depth, decoder_num_heads,
                                          self.num_patches, patch_size * patch_size * 3, mlp_ratio)
        if id_branch:
            self.rep_decoder = RepDecoder(embed_dim, rep_decoder_depth, rep_decoder_num_heads,
                                          self.num_patches, mlp_ratio)
            self.projector = mlp_head(embed_dim, projection_hidden_size, projection_size)
            self.predictor = mlp_head(projection_size, projection_hidden_size, projection_size)
        # how many micro-batches this model has trained on (seeds the masks; saved in checkpoints)
        self.register_buffer("num_micro_batches", torch.zeros((), dtype=torch.long))
        self._initialise()
        if id_branch:
            self.target = self._make_target()

        self._masking_spec = (masking, mask_ratio, dict(masking_kwargs or {}))
        self._masking_fn: Callable | None = masking if callable(masking) else None

    # ---------------------------------------------------------------- construction
    def _initialise(self) -> None:
        """Spec init: xavier_uniform for every Linear (patch embed as a Linear), LN (1, 0),
        cls/mask token N(0, 0.02); position tables stay fixed."""
        w = self.encoder.patch_embed.proj.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.encoder.patch_embed.proj.bias)
        nn.init.normal_(self.encoder.cls_token, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _make_target(self) -> nn.ModuleDict:
        """EMA target: copies of encoder, mask token, rep decoder and projector; no gradients."""
        holder = nn.Module()
        holder.mask_token = nn.Parameter(self.mask_token.detach().clone(), requires_grad=False)
        target = nn.ModuleDict(dict(encoder=copy.deepcopy(self.encoder),
                                    rep_decoder=copy.deepcopy(self.rep_decoder),
                                    projector=copy.deepcopy(self.projector), extra=holder))
        for p in target.parameters():
            p.requires_grad_(False)
        return target

    def init_weights(self) -> None:  # the constructor already initialised (Runner calls this)
        pass

    def ema_pairs(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(target, online) tensor pairs that the EMA hook updates: every target parameter."""
        if not self.id_branch:
            return []
        pairs = [(self.target.extra.mask_token, self.mask_token)]
        for name in ("encoder", "rep_decoder", "projector"):
            online = dict(getattr(self, name).named_parameters())
            pairs += [(p, online[n]) for n, p in self.target[name].named_parameters()]
        return pairs

    # ---------------------------------------------------------------- masking
    @property
    def masking_fn(self) -> Callable:
        if self._masking_fn is None:
            import fsfm_bench

            name, ratio, kw = self._masking_spec
            self._masking_fn = fsfm_bench.build_masking(name, mask_ratio=ratio,
                                                        patch_size=self.patch_size, **kw)
        return self._masking_fn

    def make_masks(self, parsing: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        import torch.distributed as dist

        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        gen = torch.Generator()   # a CPU generator: the same masks on every device
        gen.manual_seed((self.seed * 1_000_003 + rank * 7_919 + int(self.num_micro_batches)) % (2**63))
        mask, focus = self.masking_fn(parsing, generator=gen)
        return mask.bool(), focus.bool()

    # ---------------------------------------------------------------- forward parts
    def encode_visible(self, imgs: torch.Tensor, ids_keep: torch.Tensor | None,
                       enc: nn.Module | None = None) -> torch.Tensor:
        """Encoder on the kept patches (all of them when ids_keep is None): [B, 1+V, D], normed."""
        enc = self.encoder if enc is None else enc
        x = enc.patch_embed(imgs) + enc.pos_embed[:, 1:]
        if ids_keep is not None:
            x = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        cls = (enc.cls_token + enc.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)
        for blk in enc.blocks:
            x = blk(x)
        return enc.norm(x)

    def rep_features(self, latent: torch.Tensor, ids_keep: torch.Tensor | None, rep: RepDecoder,
                     mask_token: torch.Tensor, projector: nn.Module,
                     dedup: bool | None = None) -> torch.Tensor:
        """Projected mean of the rep decoder over all 1+N tokens. Only this mean is used (no
        per-token output), which is what lets ``dedup`` collapse the equal mask tokens."""
        x = rep.embed(latent)
        dedup = self.dedup_rep_mask_tokens if dedup is None else dedup
        if ids_keep is not None and dedup and rep.pos_embed_is_zero():
            # by the masking contract every row hides the same K (ids_keep is rectangular)
            k = self.num_patches - ids_keep.shape[1]
            if x.shape[1] != 1 + ids_keep.shape[1]:
                raise ValueError(f"latent has {x.shape[1]} tokens, ids_keep {ids_keep.shape[1]} + cls")
            return projector(rep.forward_dedup(x, mask_token, k))
        if ids_keep is not None:
            x = scatter_tokens(x, ids_keep, mask_token, self.num_patches)
        return projector(rep(x).mean(dim=1))

    def forward_train(self, imgs: torch.Tensor, mask: torch.Tensor, focus: torch.Tensor,
                      ids_keep: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Every intermediate of one step (parity tests compare them): latent, pred, features, losses."""
        mask = mask.bool()
        if ids_keep is None:
            ids_keep = ids_from_mask(mask)   # raises unless every row hides the same K
        elif not bool((mask.sum(1) == self.num_patches - ids_keep.shape[1]).all()):
            raise ValueError(f"ids_keep keeps {ids_keep.shape[1]} patches per row but the mask hides "
                             f"{sorted(set(mask.sum(1).tolist()))} of {self.num_patches}: every row "
                             "must hide the same K = N - kept")
        latent = self.encode_visible(imgs, ids_keep)
        full = scatter_tokens(latent, ids_keep, self.mask_token, self.num_patches)
        pred = self.pixel_decoder(full)
        target = pixel_targets(imgs, self.patch_size, self.norm_pix_loss)
        per_patch = ((pred.float() - target.float()) ** 2).mean(dim=-1)
        m, fr = mask.float(), focus.float()
        out = dict(latent=latent, pred=pred)
        out["rec_all"] = (per_patch * m).sum() / m.sum().clamp_min(1.0)
        out["rec_sfr"] = (per_patch * fr).sum() / fr.sum().clamp_min(1.0)
        total = self.weights["rec"] * out["rec_all"] + self.weights["sfr"] * out["rec_sfr"]
        if self.id_branch:
            q = F.normalize(self.predictor(self.rep_features(
                latent, ids_keep, self.rep_decoder, self.mask_token, self.projector)).float(), dim=-1)
            with torch.no_grad():
                t = self.target
                t_latent = self.encode_visible(imgs, None, enc=t.encoder)
                z = F.normalize(self.rep_features(t_latent, None, t.rep_decoder, t.extra.mask_token,
                                                  t.projector).float(), dim=-1)
            out.update(feat_online=q, feat_target=z)
            out["sim"] = -0.5 * (q * z).sum(dim=-1).mean()
            total = total + self.weights["sim"] * out["sim"]
        out["total"] = total
        return out

    def check_inputs(self, imgs: torch.Tensor, parsing: torch.Tensor | None) -> None:
        from ..errors import FsfmBenchError

        if parsing is None:
            raise FsfmBenchError("the batch has images but no parsing maps; pretraining with masking "
                                 "needs a `parsing` .npy per manifest row (build the data with "
                                 "`fsfm-bench prepare ...`)")
        if imgs.shape[-2:] != (self.img_size, self.img_size) or parsing.shape[-2:] != imgs.shape[-2:]:
            raise FsfmBenchError(f"images {tuple(imgs.shape[-2:])} / parsing maps "
                                 f"{tuple(parsing.shape[-2:])} must both be {self.img_size}x{self.img_size}")

    def forward(self, inputs: torch.Tensor, parsing: torch.Tensor | None = None,
                data_samples: Any = None, mode: str = "loss", mask: torch.Tensor | None = None,
                focus: torch.Tensor | None = None, ids_keep: torch.Tensor | None = None):
        if mask is None:
            self.check_inputs(inputs, parsing)
            mask, focus = self.make_masks(parsing)
        if focus is None:
            focus = torch.zeros_like(mask)
        out = self.forward_train(inputs, mask, focus, ids_keep)
        if mode == "tensor":
            return out
        keys = ("rec_all", "rec_sfr", "sim") if self.id_branch else ("rec_all", "rec_sfr")
        losses = {"loss": out["total"]}
        losses.update({k: out[k].detach() for k in keys})
        return losses

    # ---------------------------------------------------------------- training step
    def train_step(self, data: Any, optim_wrapper) -> dict[str, torch.Tensor]:
        from .step import guarded_train_step

        return guarded_train_step(self, self, data, optim_wrapper)

    def encoder_state_dict(self) -> dict[str, torch.Tensor]:
        """The encoder in the official FSFM key names (what downstream loads)."""
        return {k: v.detach().clone() for k, v in self.encoder.state_dict().items()}
