"""Built-in protocols: versioned data (one YAML file per protocol), registered by name, and the
tasks they name (``tasks.py``).

Each file is validated against ``fsfm_bench/schemas/protocol.json`` when it is registered, so a
broken protocol is reported as a plugin error instead of failing half-way through a run. The
registered object is a :class:`ProtocolDefinition`; config composition reads its
``default_config()`` (the protocol's data) into the resolved config's ``protocol`` section.
"""
from pathlib import Path

from fsfm_bench.hookspecs import hookimpl

fsfm_bench_api = ">=1,<2"

HERE = Path(__file__).resolve().parent


@hookimpl
def register_protocols(register):
    """Every version as ``id@version``; the plain ``id`` names the newest one (older ones stay runnable)."""
    from fsfm_bench.protocols import ProtocolDefinition

    newest: dict[str, ProtocolDefinition] = {}
    for path in sorted(HERE.glob("*.yaml")):
        definition = ProtocolDefinition.from_file(path)
        register(definition.ref, definition, description=definition.title)
        if definition.id not in newest or definition.version > newest[definition.id].version:
            newest[definition.id] = definition
    for pid, definition in newest.items():
        register(pid, definition, description=f"{definition.title} (= {definition.ref})")


@hookimpl
def register_tasks(register):
    """deepfake, anti_spoofing, diffusion, demo: what a protocol of each task uses by default."""
    from .tasks import TASKS

    for task in TASKS:
        register(task.name, task)
