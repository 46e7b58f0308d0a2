"""The dependency locks in requirements/: complete, hash-checked and one set of versions.

Bootstrap (and so CI) installs requirements/dev*.txt and the image requirements/service*.txt,
each with ``pip --require-hashes``. A dependency added to pyproject.toml without running
scripts/lock.sh, or a hand edit that lets two locks drift apart, fails here instead of as an
install error on the next fresh machine, or as an image that runs versions CI never tested.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy.validators import REPO

#: Each lock and the pyproject extras it must satisfy (scripts/lock.sh makes them so).
LOCKS: dict[str, tuple[str, ...]] = {
    "dev-torch.txt": ("dev", "detect", "ultralytics"),
    "dev.txt": ("dev", "detect"),
    "service.txt": (),
    "service-detect.txt": ("detect",),
}
#: The platform the locks are made for (the image's and CI's): markers evaluate for it.
_PLATFORM = {"sys_platform": "linux", "platform_system": "Linux", "python_version": "3.11"}


def _pins(text: str) -> dict[str, tuple[Version, int]]:
    """``name -> (pinned version, number of hashes)`` of a ``pip --require-hashes`` file."""
    pins: dict[str, tuple[Version, int]] = {}
    for entry in re.sub(r"\\\n\s*", " ", text).splitlines():
        entry = entry.split(" #", 1)[0].strip()
        if not entry or entry.startswith("#"):
            continue
        spec, *options = entry.split(" --")
        requirement = Requirement(spec)
        (pin,) = requirement.specifier
        assert pin.operator == "==", f"{spec}: not pinned with =="
        hashes = [o for o in options if re.fullmatch(r"hash=sha256:[0-9a-f]{64}", o.strip())]
        pins[canonicalize_name(requirement.name)] = (Version(pin.version), len(hashes))
    return pins


def _wanted(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    specs += [s for extra in extras for s in project["optional-dependencies"][extra]]
    wanted = [Requirement(s) for s in specs]
    return [r for r in wanted if r.marker is None or r.marker.evaluate(_PLATFORM)]


def _lock(name: str) -> dict[str, tuple[Version, int]]:
    return _pins(Path(REPO / "requirements" / name).read_text())


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_each_lock_pins_every_dependency_in_its_range_with_hashes(name: str) -> None:
    pins = _lock(name)
    assert pins, f"requirements/{name} pins nothing"
    unhashed = [p for p, (_, hashes) in pins.items() if hashes == 0]
    assert not unhashed, f"requirements/{name}: no hash for {unhashed}"
    for requirement in _wanted(LOCKS[name]):
        key = canonicalize_name(requirement.name)
        assert key in pins, f"{requirement} is not in requirements/{name}: run scripts/lock.sh"
        version = pins[key][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements/{name} pins {key}=={version}, outside pyproject's {requirement}"
        )


def test_every_lock_holds_the_versions_ci_tested() -> None:
    """dev-torch.txt is what CI installs; the others are subsets of it, version for version."""
    tested = _lock("dev-torch.txt")
    for name in sorted(set(LOCKS) - {"dev-torch.txt"}):
        drifted = {
            package: (str(version), str(tested.get(package, ("absent",))[0]))
            for package, (version, _) in _lock(name).items()
            if package not in tested or tested[package][0] != version
        }
        assert not drifted, f"requirements/{name} differs from dev-torch.txt: {drifted}"


def test_the_image_locks_hold_no_torch_and_no_dev_tools() -> None:
    for name in ("service.txt", "service-detect.txt"):
        pins = _lock(name)
        assert not {"torch", "ultralytics", "pytest", "mypy"} & set(pins), name
    assert "onnxruntime" in _lock("service-detect.txt")
    assert "onnxruntime" not in _lock("service.txt")


def test_pins_parse_the_way_pip_reads_them() -> None:
    """The parser above agrees with pip's format: continuation lines, hashes, comments."""
    sample = (
        "# a comment\n"
        "numpy==2.3.0 \\\n"
        "    --hash=sha256:" + "a" * 64 + " \\\n"
        "    --hash=sha256:" + "b" * 64 + "\n"
        "    # via opencv-python-headless\n"
        "Pillow==12.3.0 --hash=sha256:" + "c" * 64 + "  # via civicqc\n"
    )
    assert _pins(sample) == {"numpy": (Version("2.3.0"), 2), "pillow": (Version("12.3.0"), 1)}
