"""Why the Blob service refused a request, and what to do about it: error codes to reasons and fixes.

Error codes are the service's (Azure Storage REST API: common and SAS error codes). Azurite answers
``AuthorizationFailure`` where Azure says ``AuthenticationFailed`` (a wrong key, a bad or expired
SAS), so both read as an authentication failure; Azure's own ``AuthorizationFailure`` with
"This request is not authorized to perform this operation." is the account's network rules.
"""

from __future__ import annotations

import re

from azcreds.redact import scrub

__all__ = [
    "AUTH_CODES",
    "PERMISSION_CODES",
    "auth_fix",
    "auth_reason",
    "permission_fix",
    "role_for",
    "safe_detail",
]

AUTH_CODES = frozenset(
    {
        "AuthenticationFailed",
        "AuthorizationFailure",
        "InvalidAuthenticationInfo",
        "NoAuthenticationInformation",
        "AuthorizationProtocolMismatch",
        "AuthorizationSourceIPMismatch",
        "AccountIsDisabled",
    }
)
"""Codes that refuse the caller as a whole: no operation would be allowed."""

PERMISSION_CODES = frozenset(
    {"AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch", "AuthorizationServiceMismatch"}
)
"""Codes that refuse one operation to a caller the service accepted."""

_NETWORK_RULES = "This request is not authorized to perform this operation."

# The operation → the least built-in role that allows it (Azure RBAC for Blob data).
_ROLES = {
    "list-containers": "Storage Blob Data Reader",
    "container": "Storage Blob Data Reader",
    "list": "Storage Blob Data Reader",
    "read": "Storage Blob Data Reader",
    "write": "Storage Blob Data Contributor",
    "delete": "Storage Blob Data Contributor",
}
_SAS_LETTERS = {
    "list-containers": "l",
    "container": "r",
    "list": "l",
    "read": "r",
    "write": "w",
    "delete": "d",
}


def role_for(op: str) -> str:
    return _ROLES[op]


def safe_detail(detail: str | None) -> str | None:
    """The service's AuthenticationErrorDetail without anything secret-bearing.

    Azure's detail for a bad signature quotes the request's signature and the string it signed;
    neither is shown: only what kind of mismatch it was.
    """
    if not detail:
        return None
    if "MAC signature" in detail or "string to sign" in detail.lower():
        return "the request's signature does not match any the service computed"
    if detail.startswith("Signature did not match"):
        return "the SAS signature does not match"
    text = re.sub(r"\s+", " ", detail).strip()
    return scrub(text[:200])


def auth_reason(code: str, message: str | None, kind: str, sas_problem: str | None) -> str:
    """Why the service refused the caller, in words (``kind``: key, sas or token)."""
    if code == "AuthorizationFailure" and message == _NETWORK_RULES:
        return "refused by the account's network rules (firewall, virtual networks or private endpoints)"
    if code == "AuthorizationProtocolMismatch":
        return "the SAS allows HTTPS only (spr=https) and the account URL is http"
    if code == "AuthorizationSourceIPMismatch":
        return "the SAS allows only some IP addresses (sip), and not this machine's"
    if code == "AccountIsDisabled":
        return "the storage account is disabled"
    if kind == "key":
        return "the account key is wrong: another account's, mistyped, or rotated since it was stored"
    if kind == "sas":
        if sas_problem:
            return f"the SAS {sas_problem}"
        return "the SAS is not valid: signed with another or a rotated key, altered, or revoked"
    return "the service refused the token: another tenant or audience, or expired"


def auth_fix(code: str, message: str | None, kind: str, account: str) -> str:
    if code == "AuthorizationFailure" and message == _NETWORK_RULES:
        return (
            "allow this machine's public IP in the storage account's Networking settings, or connect "
            "through the account's private endpoint"
        )
    if code == "AuthorizationProtocolMismatch":
        return "use the https account URL"
    if code == "AuthorizationSourceIPMismatch":
        return "issue a SAS whose IP range (sip) includes this machine, or none"
    if code == "AccountIsDisabled":
        return "see the account's status in the Azure portal"
    if kind == "key":
        return (
            f"copy a current key (az storage account keys list --account-name {account}) and store it: "
            "azcreds secret update NAME --account_key=@FILE"
        )
    if kind == "sas":
        return "issue a new SAS and store it: azcreds secret update NAME --sas_token=@FILE"
    return (
        "check tenant_id (the account's directory) and that the identity belongs to it; tokens must be "
        "for https://storage.azure.com"
    )


def permission_fix(op: str, code: str, kind: str, who: str, account: str, container: str | None) -> str:
    """What grants ``op`` to this caller."""
    if kind == "sas":
        if code == "AuthorizationResourceTypeMismatch":
            return "the account SAS lacks a resource type: issue one with srt=sco"
        if code == "AuthorizationServiceMismatch":
            return "the account SAS lacks the Blob service: issue one with ss=b"
        letter = _SAS_LETTERS[op]
        return f"the SAS lacks '{letter}': issue one whose permissions (sp) include {letter}"
    if kind == "key":
        return "an account key may do everything: the account's settings refused it; see the portal"
    role = role_for(op)
    scope = f"/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/{account}"
    if container:
        scope += f"/blobServices/default/containers/{container}"
    return (
        f'assign "{role}" to {who} (az role assignment create --role "{role}" --assignee ID --scope '
        f"{scope}); Owner and Contributor manage the account but grant no access to its data"
    )
