"""What every training run on mmengine's Runner shares, pretraining (:mod:`fsfm_bench.pretrain`) and
fine-tuning (:mod:`fsfm_bench.finetune`) alike: crash-safe checkpoints and resume
(:mod:`.checkpointing`), the progress hook (:mod:`.progress`) and torch.distributed set-up
(:mod:`.distributed`). Nothing here knows which stage it serves, so neither stage imports the other."""
