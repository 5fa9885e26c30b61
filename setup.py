"""The one part of the build that pyproject.toml cannot state: the package list.

It is ``gan_lab`` with every sub-package found on disk, plus ``gan_lab.conf`` and its config
groups, which are the repository's top-level ``conf/`` folder (mapped in
``[tool.setuptools.package-dir]``): wheels and sdists carry the configs while the repository
keeps them at the top level. Everything else (metadata, package data) is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["gan_lab", "gan_lab.*"], exclude=["*.__pycache__"]),
        "gan_lab.conf",
        *(f"gan_lab.conf.{group}"
          for group in find_namespace_packages(where="conf", exclude=["*.__pycache__"])),
    ]
)
