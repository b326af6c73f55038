"""The options of ``homeops init`` (cluster, domain, gateways, nodes, age keys) and their validation."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from homeops.author import templates as t
from homeops.core.errors import HomeopsError

_CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_AGE_KEY = re.compile(r"^age1[0-9a-z]{58}$")


@dataclass(frozen=True)
class InitOptions:
    cluster: str
    domain: str | None = None
    gateway_internal: str | None = None
    gateway_external: str | None = None
    nodes: tuple[tuple[str, str], ...] = ()
    repo_url: str | None = None
    age_keys: tuple[str, ...] = ()
    force: bool = False


def parse_node(text: str) -> tuple[str, str]:
    """``--node NAME=IP``."""
    name, sep, address = text.partition("=")
    if not sep or not _HOSTNAME.match(name):
        raise HomeopsError(
            f"--node {text!r} is not NAME=IP with a lowercase host name",
            hint="write --node node-1=192.168.1.10",
        )
    return name, checked_ip(address, f"--node {name}")


def checked_ip(text: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise HomeopsError(
            f"{what}: {text!r} is not an IP address", hint="pass an IPv4 or IPv6 address"
        ) from None


def validate(options: InitOptions) -> None:
    if not _CLUSTER_NAME.match(options.cluster) or not t.yaml_safe_name(options.cluster):
        raise HomeopsError(
            f"cluster name {options.cluster!r} is not lowercase kebab-case", hint="use e.g. --cluster chongus"
        )
    if options.domain is not None and not _DNS_NAME.match(options.domain):
        raise HomeopsError(
            f"--domain {options.domain!r} is not a lowercase DNS name", hint="use e.g. home.example.net"
        )
    for key in options.age_keys:
        if not _AGE_KEY.match(key):
            raise HomeopsError(
                f"--age-key {key!r} is not an age public key", hint="age-keygen -y KEYFILE prints it"
            )
    names = [n for n, _ in options.nodes]
    if len(set(names)) != len(names):
        raise HomeopsError("--node names must be unique")
