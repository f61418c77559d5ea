"""A local certificate authority for the emulators, kept in the data directory.

simple_salesforce always builds https:// URLs, so the emulators serve TLS. The CA and the server
certificate are written once per data directory and reused on restart, so a client that trusts
`ca.pem` keeps trusting the emulator across restarts. The CA's private key never touches the disk;
the server key is written 0600 in a 0700 folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import trustme

from emulators.common.files import PRIVATE_FILE, private_dir, write_private

_EXPIRY = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class TlsFiles:
    ca_bundle: Path
    server_pem: Path  # private key and certificate chain in one file


def ensure_tls(data_dir: Path) -> TlsFiles:
    private_dir(data_dir)
    files = TlsFiles(ca_bundle=data_dir / "ca.pem", server_pem=data_dir / "server.pem")
    if files.ca_bundle.exists() and files.server_pem.exists():
        files.server_pem.chmod(PRIVATE_FILE)  # written by an older version with the default mode
        return files
    ca = trustme.CA(organization_name="sfjira emulator CA")
    leaf = ca.issue_cert("127.0.0.1", "localhost", "::1", not_after=_EXPIRY)
    write_private(files.server_pem, leaf.private_key_and_cert_chain_pem.bytes())
    files.ca_bundle.write_bytes(ca.cert_pem.bytes())
    return files
