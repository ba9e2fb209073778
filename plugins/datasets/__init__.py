"""Built-in dataset adapters: one per official layout, plus generic ``folder`` and ``list``.

Each adapter is a class (see :class:`fsfm_bench.bases.dataset.DatasetAdapter`):
``cls().index(root, **options) -> list[MediaItem]``, ``cls().card`` (registry/datasets/<name>.yaml),
``cls().verify(root, **options) -> VerifyReport``.
"""
from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"

#: registered name -> "module:Class" (imported inside the hook, so listing plugins stays cheap)
ADAPTERS = {
    "ffpp": "ffpp:FaceForensicsPP",
    "dfd": "ffpp:DeepFakeDetection",
    "celebdf_v2": "celebdf:CelebDFv2",
    "celebdf_v1": "celebdf:CelebDFv1",
    "dfdc": "dfdc:DFDC",
    "dfdc_preview": "dfdc:DFDCPreview",
    "wilddeepfake": "wdf:WildDeepfake",
    "diff": "diff:DiFF",
    "msu_mfsd": "fas:MSUMFSD",
    "casia_fasd": "fas:CASIAFASD",
    "replay_attack": "fas:ReplayAttack",
    "oulu_npu": "fas:OULUNPU",
    "celeba_spoof": "fas:CelebASpoof",
    "vggface2": "vggface2:VGGFace2",
    "folder": "generic:FolderDataset",
    "list": "generic:ListDataset",
    "demo2": "demo_v2:DemoV2Dataset",
}


@hookimpl
def register_datasets(register):
    import importlib

    for name, target in ADAPTERS.items():
        module_name, cls_name = target.split(":")
        module = importlib.import_module(f"{__name__}.{module_name}")
        register(name, getattr(module, cls_name))
    # the bundled demo faces (plugins/datasets/demo.py), used by the demo@1 protocol
    register("demo", importlib.import_module(f"{__name__}.demo").DemoDataset)
