"""Package discovery only (all metadata is in pyproject.toml).

Three source folders install under prefixed import names so that nothing called just `plugins`,
`configs` or `registry` lands in site-packages: plugins/ -> fsfm_bench_plugins, configs/ ->
fsfm_bench_configs, registry/ -> fsfm_bench_registry.
"""
from setuptools import find_namespace_packages, setup

MAPPED = {"fsfm_bench_plugins": "plugins", "fsfm_bench_configs": "configs", "fsfm_bench_registry": "registry"}

packages = find_namespace_packages(include=["fsfm_bench", "fsfm_bench.*"])
for import_name, folder in MAPPED.items():
    packages.append(import_name)
    packages += [f"{import_name}.{sub}" for sub in find_namespace_packages(where=folder)]

setup(packages=packages, package_dir={"": ".", **MAPPED})
