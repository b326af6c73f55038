"""What goes wrong talking to a registry: each kind of failure is its own error, so callers tell a
missing manifest from refused credentials from an unreachable host. All are HomeopsErrors: one line
for the user, never a credential in it."""

from __future__ import annotations

from homeops.core import limits
from homeops.core.errors import HomeopsError


class RegistryError(HomeopsError):
    """A registry refused, failed or could not be reached."""


class ReferenceError_(RegistryError):
    """A reference that is not a valid ``host/path:tag@digest``."""


class NotFoundError(RegistryError):
    """The registry answered that the manifest, blob or repository does not exist."""


class AuthError(RegistryError):
    """The registry (or its token service) refused our credentials or asked for some."""


class UnreachableError(RegistryError):
    """The registry could not be reached at all (DNS, refused connection, TLS, timeout)."""


class DigestMismatchError(RegistryError):
    """Content did not hash to the digest it was asked for: never cache or use it."""


class TooLargeError(RegistryError, limits.LimitError):
    """A download exceeded its size limit."""


class DeadlineError(UnreachableError, limits.LimitError):
    """A request did not complete within its overall deadline."""
