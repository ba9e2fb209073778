"""Built-in protocols: versioned data (one YAML file per protocol), registered by name.

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
    from fsfm_bench.protocols import ProtocolDefinition

    by_id: dict[str, list[ProtocolDefinition]] = {}
    for path in sorted(HERE.glob("*.yaml")):
        definition = ProtocolDefinition.from_file(path)
        by_id.setdefault(definition.id, []).append(definition)
    for pid, versions in by_id.items():
        versions.sort(key=lambda d: d.version)
        # the bare id is the newest version; every version of an id with several is also `id@N`,
        # so `protocol=demo` runs demo@2 while demo@1 stays loadable as `protocol=demo@1`
        register(pid, versions[-1], description=versions[-1].title)
        if len(versions) > 1:
            for definition in versions:
                register(definition.ref, definition, description=definition.title)
