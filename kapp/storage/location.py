"""Refuse a database file on a network share or in a cloud-synced folder.

SQLite's WAL needs shared memory on one computer, and file locks over SMB/NFS are
unreliable; a sync client (OneDrive, Dropbox...) copies the file while kapp writes it
and may put back an older copy. Either can lose or corrupt entries. Such a path is
refused at open time with a message that points to the server (PostgreSQL) mode.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePath, PureWindowsPath

from kapp.domain.errors import UnsafeLocation

NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "ncpfs", "afs", "coda", "9p",
    "ceph", "glusterfs", "lustre", "gpfs", "beegfs", "davfs", "webdav", "afpfs", "sshfs",
})
NETWORK_FUSE = frozenset({
    "sshfs", "rclone", "s3fs", "gcsfuse", "davfs2", "glusterfs", "cephfs", "onedriver",
    "dropbox", "google-drive-ocamlfuse", "gvfsd-fuse", "smbnetfs", "curlftpfs", "goofys",
    "juicefs", "mountpoint-s3", "blobfuse", "blobfuse2", "cloudfuse",
})
CLOUD_FOLDERS = (
    "onedrive", "dropbox", "google drive", "googledrive", "my drive", "icloud drive",
    "iclouddrive", "mobile documents", "com~apple~clouddocs", "box sync", "pcloud drive",
    "nextcloud", "owncloud", "mega", "sync.com", "tresorit", "seafile",
)

SERVER_MODE = ("Keep the database on this computer's own disk (the default place is best), "
               "or, to share one database between several computers, use kapp's server "
               "mode: a PostgreSQL database on a clinic server, opened with "
               "--database-url postgresql+psycopg://USER@SERVER/kapp.")


def parse_mounts(text: str) -> list[tuple[str, str]]:
    """(mount point, filesystem type) pairs from a /proc/mounts table."""
    mounts = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            point = parts[1].replace("\\040", " ").replace("\\011", "\t")
            point = point.replace("\\012", "\n").replace("\\134", "\\")
            mounts.append((point, parts[2]))
    return mounts


def _filesystem_of(path: PurePath, mounts: list[tuple[str, str]]) -> tuple[str, str] | None:
    best: tuple[str, str] | None = None
    text = str(path)
    for point, fstype in mounts:
        inside = text == point or text.startswith(point.rstrip("/") + "/") or point == "/"
        if inside and (best is None or len(point) > len(best[0])):
            best = (point, fstype)
    return best


def is_network_filesystem(fstype: str) -> bool:
    fstype = fstype.lower()
    if fstype in NETWORK_FILESYSTEMS:
        return True
    if fstype.startswith("fuse."):
        return fstype.removeprefix("fuse.") in NETWORK_FUSE
    return False


def cloud_folder(path: PurePath) -> str | None:
    """The name of the cloud-synced folder ``path`` lies in, if any."""
    for part in path.parts[:-1]:  # the folders, not the file's own name
        lower = part.lower()
        for name in CLOUD_FOLDERS:
            if lower == name or lower.startswith(name + " ") or lower.startswith(name + "-"):
                return part
    return None


def _windows_network_drive(path: PureWindowsPath) -> bool:  # pragma: no cover - Windows
    if sys.platform != "win32" or not path.drive or not path.drive.endswith(":"):
        return False
    import ctypes

    drive_remote = 4
    return ctypes.windll.kernel32.GetDriveTypeW(path.drive + "\\") == drive_remote  # type: ignore[attr-defined]


def location_problem(path: Path | str, *, mounts_text: str | None = None,
                     windows: bool | None = None) -> str | None:
    """Why kapp must not keep its database at ``path`` (None when the place is fine).

    ``mounts_text`` stands in for /proc/mounts and ``windows`` for the platform, so the
    check can be tested anywhere.
    """
    windows = (os.name == "nt") if windows is None else windows
    if windows:
        win = PureWindowsPath(str(path))
        if str(win).startswith("\\\\") or win.drive.startswith("\\\\"):
            return (f"The database {win} is on a network share ({win.drive or 'UNC path'}).")
        if _windows_network_drive(win):
            return f"The database {win} is on a network drive ({win.drive})."
        folder = cloud_folder(win)
    else:
        resolved = Path(path).expanduser().absolute()
        if mounts_text is None:
            try:
                mounts_text = Path("/proc/mounts").read_text()
            except OSError:
                mounts_text = ""
        found = _filesystem_of(resolved, parse_mounts(mounts_text))
        if found is not None and is_network_filesystem(found[1]):
            return (f"The database {resolved} is on a network share ({found[1]} mounted at "
                    f"{found[0]}).")
        folder = cloud_folder(resolved)
    if folder is not None:
        return (f"The database {path} is inside the cloud-synced folder '{folder}': the sync "
                "can copy the file while kapp writes to it and lose entries.")
    return None


def refuse_unsafe_location(path: Path | str, **kwargs: object) -> None:
    problem = location_problem(path, **kwargs)  # type: ignore[arg-type]
    if problem is not None:
        raise UnsafeLocation(f"{problem} kapp does not keep its records there, because "
                             f"entries could be lost. {SERVER_MODE}")
