"""Pretraining models: FSFM's 3C model and MAE (same model, no ID branch); official-layout converter."""
from .convert import load_official, model_to_official, official_to_model
from .fsfm import ARCH_PRESETS, FSFMPretrainer

__all__ = ["ARCH_PRESETS", "FSFMPretrainer", "load_official", "model_to_official", "official_to_model"]
