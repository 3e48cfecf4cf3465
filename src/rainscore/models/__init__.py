"""Models that estimate a map's score from the IMERG side alone: ``rainscore.models``.

A pure library (no Kedro): the U-Net, the one training loop, split-conformal intervals and
the model artefacts (safetensors weights and JSON, never pickle).
"""
