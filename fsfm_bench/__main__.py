"""``python -m fsfm_bench`` (also what torchrun launches: ``torchrun -m fsfm_bench pretrain ...``)."""
import sys

from .cli import main

sys.exit(main())
