"""``check --cluster C`` reports what concerns C; without it, the whole repository."""

from __future__ import annotations

import json

from support import EXAMPLE, run_cli


def test_example_chongus_is_clean_and_bitty_files_only_show_repository_wide() -> None:
    scoped = run_cli("check", str(EXAMPLE), "--cluster", "chongus", "--format", "json")
    assert scoped.returncode == 0, scoped.stdout + scoped.stderr
    assert json.loads(scoped.stdout)["findings"] == []
    whole = run_cli("check", str(EXAMPLE), "--format", "json")
    assert whole.returncode == 1
    found = {(f["rule"], f["file"]) for f in json.loads(whole.stdout)["findings"]}
    assert ("HO002", "clusters/bitty/flux/vars/cluster-secrets.sops.yaml") in found
    assert ("HO006", "cluster-cd/apps/bitty/media/tautulli/app/ingress.yaml") in found
    bitty = run_cli("check", str(EXAMPLE), "--cluster", "bitty", "--format", "json")
    assert ("HO002", "clusters/bitty/flux/vars/cluster-secrets.sops.yaml") in {
        (f["rule"], f["file"]) for f in json.loads(bitty.stdout)["findings"]
    }
