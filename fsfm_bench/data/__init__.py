"""Data: dataset items, manifests, video decoding, face crops, parsing maps, transforms."""
