"""Presentation-attack simulations for anti-spoofing: a printed photo and a replayed screen.

The whole frame is a recapture, so the mask is the whole image (255 everywhere): exact, if blunt.
"""
from __future__ import annotations

import cv2
import numpy as np


def _full_mask(image: np.ndarray) -> np.ndarray:
    return np.full(image.shape[:2], 255, np.uint8)


def _odd(n: float) -> int:
    n = max(1, int(round(n)))
    return n if n % 2 else n + 1


class PrintAttack:
    """Print attack: halftone dot screen, ink/paper colour shift, recapture blur and sensor noise."""

    name = "print_attack"
    needs_donor = False

    def __call__(self, image, landmarks, rng, donor=None, donor_landmarks=None):
        h, w = image.shape[:2]
        img = image.astype(np.float32) / 255.0
        # colour: reduced gamut (ink), warm paper white, lifted blacks
        sat = rng.uniform(0.6, 0.85)
        grey = img.mean(axis=2, keepdims=True)
        img = grey + (img - grey) * sat
        paper = np.array([1.0, rng.uniform(0.93, 0.99), rng.uniform(0.82, 0.93)], np.float32)
        img = 0.06 + img * 0.9 * paper
        # halftone: a rotated periodic dot screen whose dot size follows the ink density
        period = rng.uniform(2.5, 4.5) * max(1.0, w / 224)
        angle = rng.uniform(0, np.pi / 2)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        u = np.cos(angle) * xx + np.sin(angle) * yy
        v = -np.sin(angle) * xx + np.cos(angle) * yy
        screen = 0.5 + 0.25 * (np.cos(2 * np.pi * u / period) + np.cos(2 * np.pi * v / period))
        ink = 1 - img
        dots = np.clip((ink - screen[..., None] * 0.9 + 0.45), 0, 1)
        img = img * 0.6 + (1 - dots) * 0.4
        img = cv2.GaussianBlur(img, (_odd(w / 112 + 1), _odd(h / 112 + 1)), rng.uniform(0.6, 1.4))
        img += rng.normal(0, rng.uniform(0.005, 0.02), img.shape).astype(np.float32)
        return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8), _full_mask(image)


class ReplayAttack:
    """Replay attack: screen gamma, moire interference, perspective of a tilted display, blur."""

    name = "replay_attack"
    needs_donor = False
    preserves_geometry = False      # the perspective warp moves the face: the real's parsing map no longer fits

    def __call__(self, image, landmarks, rng, donor=None, donor_landmarks=None):
        h, w = image.shape[:2]
        img = image.astype(np.float32) / 255.0
        img = np.power(img, rng.uniform(0.65, 0.85))                       # screen gamma / brightness
        tint = np.array([rng.uniform(0.9, 1.0), rng.uniform(0.95, 1.02), rng.uniform(1.0, 1.1)], np.float32)
        img = np.clip(img * tint, 0, 1)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        moire = np.zeros((h, w), np.float32)
        for _ in range(2):                                                   # beat of two grids = moire
            f = rng.uniform(0.15, 0.45)
            a = rng.uniform(0, np.pi)
            moire += np.sin(2 * np.pi * f * (np.cos(a) * xx + np.sin(a) * yy) + rng.uniform(0, 2 * np.pi))
        img = img * (1 + rng.uniform(0.04, 0.1) * moire[..., None] / 2)
        d = rng.uniform(0.02, 0.07, size=(4, 2)) * [w, h]
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[d[0, 0], d[0, 1]], [w - d[1, 0], d[1, 1]], [w - d[2, 0], h - d[2, 1]], [d[3, 0], h - d[3, 1]]])
        matrix = cv2.getPerspectiveTransform(src, dst)
        bezel = float(rng.uniform(0.02, 0.1))
        img = cv2.warpPerspective(np.clip(img, 0, 1), matrix, (w, h), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=(bezel, bezel, bezel))
        img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 0.9))
        img += rng.normal(0, 0.01, img.shape).astype(np.float32)
        return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8), _full_mask(image)
