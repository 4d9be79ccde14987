"""A database on a network share or in a cloud-synced folder is refused, pointing to the
server mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapp.domain.errors import UnsafeLocation
from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url
from kapp.storage.location import location_problem, parse_mounts, refuse_unsafe_location

pytestmark = pytest.mark.sqlite_only  # where a SQLite file may live

MOUNTS = """\
/dev/sda2 / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev 0 0
//fileserver/clinic /mnt/clinic cifs rw,vers=3.0,username=kapp 0 0
fileserver:/export/kapp /srv/kapp nfs4 rw,relatime,vers=4.2 0 0
nurse@laptop:/data /home/nurse/remote fuse.sshfs rw,nosuid,nodev 0 0
/dev/sdb1 /media/usb\\040stick vfat rw 0 0
//nas/share /mnt/clinic/local ext4 rw 0 0
"""


@pytest.mark.parametrize(("path", "words"), [
    ("/mnt/clinic/kapp.db", "cifs mounted at /mnt/clinic"),
    ("/srv/kapp/data/kapp.db", "nfs4"),
    ("/home/nurse/remote/kapp.db", "fuse.sshfs"),
    ("/home/nurse/OneDrive - Clinic/kapp/kapp.db", "cloud-synced folder 'OneDrive - Clinic'"),
    ("/home/nurse/Dropbox/kapp.db", "'Dropbox'"),
    ("/Users/nurse/Library/Mobile Documents/com~apple~CloudDocs/kapp.db", "Mobile Documents"),
    ("/home/nurse/Google Drive/kapp.db", "Google Drive"),
])
def test_network_and_cloud_paths_are_named(path: str, words: str) -> None:
    problem = location_problem(path, mounts_text=MOUNTS, windows=False)
    assert problem is not None and words in problem


@pytest.mark.parametrize("path", [
    "/home/nurse/.local/share/kapp/kapp.db",
    "/tmp/kapp.db",
    "/media/usb stick/kapp.db",
    "/mnt/clinic/local/kapp.db",  # a local disk mounted inside the share's folder
    "/home/nurse/dropbox-notes.db",  # the file's own name does not count
])
def test_local_paths_are_fine(path: str) -> None:
    assert location_problem(path, mounts_text=MOUNTS, windows=False) is None


@pytest.mark.parametrize(("path", "words"), [
    (r"\\fileserver\clinic\kapp.db", "network share"),
    (r"C:\Users\nurse\OneDrive\Documents\kapp.db", "OneDrive"),
    (r"C:\Users\nurse\iCloudDrive\kapp.db", "iCloudDrive"),
])
def test_windows_unc_paths_and_cloud_folders(path: str, words: str) -> None:
    problem = location_problem(path, windows=True)
    assert problem is not None and words in problem


def test_windows_local_path_is_fine() -> None:
    assert location_problem(r"C:\Users\nurse\AppData\Local\kapp\kapp.db", windows=True) is None


def test_the_refusal_points_to_the_server_mode() -> None:
    with pytest.raises(UnsafeLocation) as caught:
        refuse_unsafe_location("/mnt/clinic/kapp.db", mounts_text=MOUNTS, windows=False)
    text = str(caught.value)
    assert "network share" in text and "PostgreSQL" in text and "--database-url" in text


def test_opening_a_database_in_a_synced_folder_is_refused_before_any_file_is_made(
        tmp_path: Path) -> None:
    path = tmp_path / "Dropbox" / "kapp.db"
    with pytest.raises(UnsafeLocation, match="server mode"):
        open_database(sqlite_url(path))
    assert not path.exists()


def test_mount_table_escapes() -> None:
    assert ("/media/usb stick", "vfat") in parse_mounts(MOUNTS)
