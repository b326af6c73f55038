"""The profile the new files follow (the repository's own, or homeops' defaults, with the options) and
the ``.homeops.yaml`` that records where it differs from the defaults."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from homeops.author import templates as t
from homeops.author.init.options import InitOptions, checked_ip
from homeops.core import yamlemit
from homeops.core.errors import HomeopsError
from homeops.core.profile import DEFAULT, PROFILE_FILE, Profile, load_profile


def init_profile(root: Path, options: InitOptions) -> tuple[Profile, dict[str, object]]:
    """The profile the new files follow, and the overrides ``.homeops.yaml`` must record."""
    existing = (root / PROFILE_FILE).is_file()
    base = load_profile(root) if existing else DEFAULT
    domain = options.domain or base.domain
    if domain is None:
        raise HomeopsError("--domain is required", hint="pass the DNS domain the apps are served under")
    if existing and base.domain and options.domain and options.domain != base.domain:
        raise HomeopsError(
            f"--domain {options.domain} differs from the domain {base.domain} of {PROFILE_FILE}",
            PROFILE_FILE,
            None,
            "the domain is shared by every cluster of the repository",
        )
    internal = base.gateway_internal
    external = base.gateway_external
    if options.gateway_internal:
        internal = replace(internal, address=checked_ip(options.gateway_internal, "--gateway-internal"))
    if options.gateway_external:
        external = replace(external, address=checked_ip(options.gateway_external, "--gateway-external"))
    if internal.address == external.address:
        raise HomeopsError(
            "the internal and external gateways need different addresses",
            hint="pass --gateway-internal and --gateway-external",
        )
    if internal.namespace != external.namespace:
        raise HomeopsError("init expects both gateways in one namespace", PROFILE_FILE)
    profile = replace(base, domain=domain, gateway_internal=internal, gateway_external=external)
    overrides: dict[str, object] = {"domain": domain}
    for key, gw, default in (
        ("gateway_internal", internal, DEFAULT.gateway_internal),
        ("gateway_external", external, DEFAULT.gateway_external),
    ):
        if gw.address != default.address:
            overrides[key] = {"address": gw.address}
    return profile, overrides


def profile_file(overrides: dict[str, object]) -> str:
    lines = [
        "---",
        "# homeops profile: the conventions of this repository where they differ from",
        "# homeops' defaults (the context document). `homeops check` and `homeops new app`",
        "# read it; see CLAUDE.md for what the conventions are.",
    ]
    for key, value in overrides.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {yamlemit.scalar(str(v), quote_unusual=True)}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {yamlemit.scalar(str(value), quote_unusual=True)}")
    return t.join(lines)
