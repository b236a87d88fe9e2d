import setuptools

# pbr comes from pyproject.toml's build requirements (PEP 517), not from
# setup_requires, which setuptools deprecated. The explicit root package
# directory lets an editable install use a plain .pth file (setuptools
# warns about its import-hook fallback otherwise).
setuptools.setup(pbr=True, package_dir={'': '.'})
