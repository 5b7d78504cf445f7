"""Maps the repo's top-level builders/ and configs/ folders into the wiki_qa package.

pyproject.toml holds the metadata; only package discovery needs code, because setuptools'
declarative `find` cannot re-root a folder under another package name. Folders of data (configs/data,
llm/prompts) are listed as namespace packages too: setuptools warns, in a page per folder, about any
importable folder that `packages` leaves out.
"""
from setuptools import find_namespace_packages, setup

ROOTS = {"wiki_qa": "wiki_qa", "wiki_qa.builders": "builders", "wiki_qa.configs": "configs"}

packages, package_dir = [], {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    for sub in find_namespace_packages(folder, exclude=["*__pycache__*"]):
        packages.append(f"{name}.{sub}")

setup(packages=packages, package_dir=package_dir)
