"""Render the HTML report in headless Chromium (Debian `chromium`), keep the screenshot, check it is not
blank. `make test` installs Chromium first where it can (`make chromium`: root or sudo, apt-get). Where there is
no browser this skips with one reason, and FAILS under CI=true: .ci/run installs it, so CI always runs this."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH, HEIGHT = 1280, 2000


pytestmark = pytest.mark.browser


def can_install() -> bool:
    """`make chromium` can run apt-get here: root, or sudo without a password."""
    if os.geteuid() == 0:
        return True
    return bool(shutil.which("sudo")) and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0


def chromium() -> str:
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if exe:
        return exe
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail("no Chromium under CI: .ci/run installs it (`make chromium`) before the tests", pytrace=False)
    if can_install():
        pytest.skip("no Chromium: `make chromium` installs Debian's package (`make test` tries it first)")
    pytest.skip("no Chromium, and none can be installed here (no root, no sudo)")


def test_report_renders_in_headless_chromium(demo_build, tmp_path):
    from wiki_qa.viz import write_page

    exe = chromium()
    index = write_page(demo_build)
    shot = index.parent / "screenshot.png"  # kept beside the report it shows
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    p = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                        f"--window-size={WIDTH},{HEIGHT}", index.resolve().as_uri()],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert p.returncode == 0 and shot.exists(), p.stderr[-2000:]

    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape == (HEIGHT, WIDTH, 3)
    colours = len(np.unique(img.reshape(-1, 3), axis=0))
    not_white = float((img.min(axis=2) < 240).mean())
    assert colours > 200, f"{colours} distinct colours: the page looks blank ({shot})"
    assert not_white > 0.05, f"only {not_white:.1%} of the page is not white ({shot})"
    # the plots' own colours are on the page (their blue, #1f77b4 = 31,119,180), not just text
    blue = np.all(np.abs(img.astype(int) - [31, 119, 180]) < 8, axis=2).sum()
    assert blue > 2000, f"{blue} plot-blue pixels: the images did not load ({shot})"
    keep = os.environ.get("WIKI_QA_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report-screenshot.png")
