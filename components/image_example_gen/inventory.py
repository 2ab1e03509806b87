"""Every entry under a data dir, sorted into image candidates and rejects. No Beam, no decoding.

The walk decides what can be known from names and the file system alone:

* hidden entries (name starts with '.') are rejected and hidden folders are not entered;
* files outside a class folder, files whose extension is not an image type, names that are not
  valid UTF-8, broken symbolic links, devices, pipes and sockets are rejected;
* sub-folders of a class folder are entered, and their images belong to that class;
* symbolic links are followed, except one that leads back to a folder it is already inside (a
  loop), and a file reached twice (through links) is read once: later paths are rejected, so one
  image can never sit in both train and eval.

Every file it meets ends up in exactly one of `candidates` and `rejected`; whether a candidate
really is a readable image is decided later, per file, by `ingestion.inspect`. Local folders are
read with `os.scandir` (which survives names that are not UTF-8; tf.io.gfile raises on them),
anything else (``gs://`` and the like) through tf.io.gfile, which has no symbolic links.
"""
from __future__ import annotations

import dataclasses
import os
import posixpath
from typing import Dict, List, Optional, Sequence, Set, Tuple

from components.paths import is_remote

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")

FILE, FOLDER, OTHER, BROKEN_LINK = "file", "folder", "other", "broken_link"


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str  # bytes that are not UTF-8 are shown as \xNN escapes
    path: str
    kind: str  # FILE, FOLDER, OTHER or BROKEN_LINK
    valid_name: bool = True
    real_path: Optional[str] = None  # local entries only: the path with symbolic links resolved
    link_target: Optional[str] = None  # set when the entry is a symbolic link

    @property
    def hidden(self) -> bool:
        return self.name.startswith(".")

def _local_entry(dir_entry: os.DirEntry, real_folder: str) -> Entry:
    """`real_folder`: the real path of the folder that holds the entry (links resolved)."""
    name, valid = dir_entry.name, True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.scandir keeps undecodable bytes as surrogates
        name, valid = os.fsencode(dir_entry.name).decode("utf-8", "backslashreplace"), False
    link_target = os.readlink(dir_entry.path) if dir_entry.is_symlink() else None
    if link_target is not None and not os.path.exists(dir_entry.path):
        kind = BROKEN_LINK  # its target is missing, or it is a loop of links
    elif dir_entry.is_dir():
        kind = FOLDER
    elif dir_entry.is_file():
        kind = FILE
    else:
        kind = OTHER
    return Entry(
        name=name,
        path=dir_entry.path,
        kind=kind,
        valid_name=valid,
        # Resolving every path component costs five lstat calls per file; only a link needs it.
        real_path=os.path.realpath(dir_entry.path) if link_target is not None else os.path.join(real_folder, dir_entry.name),
        link_target=link_target,
    )


def list_entries(path: str) -> List[Entry]:
    """The entries of one folder, sorted by name; raises OSError when it cannot be read."""
    if not is_remote(path):
        real_folder = os.path.realpath(path)
        with os.scandir(path) as entries:
            return sorted((_local_entry(e, real_folder) for e in entries), key=lambda e: e.name)
    import tensorflow as tf

    entries = []
    for listed in tf.io.gfile.listdir(path):
        name = listed.rstrip("/")
        full = posixpath.join(path, name)
        if listed.endswith("/"):  # object stores (gs://) mark folders, sparing a request per entry
            kind = FOLDER
        elif path.startswith("gs://"):
            kind = FILE
        else:
            kind = FOLDER if tf.io.gfile.isdir(full) else FILE
        entries.append(Entry(name=name, path=full, kind=kind))
    return sorted(entries, key=lambda e: e.name)


def is_folder(path: str) -> bool:
    if not is_remote(path):
        return os.path.isdir(path)
    import tensorflow as tf

    return tf.io.gfile.isdir(path)


def class_folders(path: str) -> List[str]:
    """Names of the folders in `path` that count as class (or split) folders."""
    return [e.name for e in list_entries(path) if e.kind == FOLDER and e.valid_name and not e.hidden]


@dataclasses.dataclass
class Inventory:
    """What a walk of the data dir found: image candidates per split folder (or '' for class
    folders directly in the data dir), and rejects."""

    # sub-folder holding class folders ('' for the data dir) -> [(path relative to data dir, class)]
    candidates: Dict[str, List[Tuple[str, str]]]
    rejected: List[Tuple[str, str]]  # (path relative to the data dir, reason), sorted by path

    @property
    def files_seen(self) -> int:
        return sum(len(c) for c in self.candidates.values()) + len(self.rejected)


def _rejection(entry: Entry) -> Optional[str]:
    """Why an entry inside a class folder is not an image candidate, from its name and kind alone."""
    if not entry.valid_name:
        return "the name is not valid UTF-8; rename it"
    if entry.kind == BROKEN_LINK:
        return f"broken symbolic link (to {entry.link_target}); fix or remove it"
    if entry.hidden:
        what = "folder" if entry.kind == FOLDER else "file"
        return f"hidden {what} (the name starts with '.'), never read; rename it to include it"
    if entry.kind == OTHER:
        return "not a regular file (a device, pipe or socket); remove it"
    if entry.kind == FILE and not entry.name.lower().endswith(IMAGE_EXTENSIONS):
        extension = posixpath.splitext(entry.name)[1] or "no extension"
        return (
            f"{extension}: not an image type the pipeline reads ({', '.join(IMAGE_EXTENSIONS)}); "
            "convert it or move it out of the data dir"
        )
    return None


def _real(path: str) -> str:
    return path if is_remote(path) else os.path.realpath(path)


class _Walker:
    def __init__(self, data_dir: str):
        self.data_dir = data_dir
        self.rejected: List[Tuple[str, str]] = []
        self._first_path: Dict[str, str] = {}  # real path -> first relative path it was listed under

    def rel(self, path: str) -> str:
        return path[len(self.data_dir) + 1 :] if is_remote(self.data_dir) else posixpath.relpath(path, self.data_dir)

    def reject(self, entry: Entry, reason: str) -> None:
        suffix = "/" if entry.kind == FOLDER else ""
        parent = self.rel(posixpath.dirname(entry.path))
        path = entry.name if parent in (".", "") else posixpath.join(parent, entry.name)
        self.rejected.append((path + suffix, reason))

    def walk_class(
        self, folder: Entry, class_name: str, inside: Set[str], images: List[Candidate], linked: bool = False
    ) -> None:
        """`linked`: the folder was reached through a symbolic link (its files may have other paths)."""
        try:
            entries = list_entries(folder.path)
        except OSError as error:
            self.reject(folder, f"folder cannot be read ({error.strerror or error}); check its permissions")
            return
        folder_rel = self.rel(folder.path)
        for entry in entries:
            reason = _rejection(entry)
            if reason:
                self.reject(entry, reason)
            elif entry.kind == FOLDER:
                if entry.real_path is not None and entry.real_path in inside:
                    self.reject(entry, f"symbolic link loop (to {entry.link_target}, a folder it is inside); not followed")
                else:
                    real = entry.real_path or entry.path
                    self.walk_class(entry, class_name, inside | {real}, images, linked or entry.link_target is not None)
            else:
                rel_path = entry.name if folder_rel in ("", ".") else posixpath.join(folder_rel, entry.name)
                real = entry.real_path or entry.path
                first = self._first_path.setdefault(real, rel_path)
                if first != rel_path:
                    self.reject(entry, _same_file(first))
                else:
                    images.append(Candidate(rel_path, class_name, real, linked or entry.link_target is not None))


def _same_file(first: str) -> str:
    return f"the same file as {first} (through a symbolic link); read once, there"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """An image file found in a class folder: its path relative to the data dir, and the real path
    (symbolic links resolved) by which two paths to one file are told apart."""

    rel_path: str
    class_name: str
    real_path: str
    # Reached through a symbolic link: only such a path can lead to a file another path leads to.
    via_link: bool = False


@dataclasses.dataclass(frozen=True)
class ClassFolder:
    """One class folder: the unit of listing work, which a Beam worker takes whole."""

    order: int  # its place in the walk; of two paths to one file, the earlier folder's is kept
    subdir: str  # the split folder that holds it ('' for the data dir)
    class_name: str


def plan_listing(layout) -> Tuple[List[ClassFolder], List[Tuple[str, str]]]:
    """The class folders of `layout`'s data dir in walk order, and the rejects beside them (files
    and folders in the data dir or a split folder that are not class folders): the top of the walk,
    a few entries however many images the folders hold."""
    if layout.unlabelled:  # the data dir is the one folder, walked whole
        return [ClassFolder(0, "", "")], []
    walker = _Walker(layout.data_dir)
    split_subdirs = {subdir for _, subdir in layout.split_dirs}
    if split_subdirs:
        for entry in list_entries(layout.data_dir):
            if entry.kind == FOLDER and entry.name in split_subdirs:
                continue
            reason = _rejection(entry)
            if entry.kind == FOLDER and not reason:
                names = ", ".join(f"{s}/" for s in sorted(split_subdirs))
                reason = f"not a split folder ({names}), not read; move its class folders into one"
            walker.reject(entry, reason or "not inside a split folder; move it into a class folder of one")
    folders = []
    for subdir, root in layout.class_roots().items():
        for entry in list_entries(root):
            if entry.kind == FOLDER and entry.valid_name and not entry.hidden and entry.name in layout.class_names:
                folders.append(ClassFolder(len(folders), subdir, entry.name))
            else:
                walker.reject(entry, _rejection(entry) or "not inside a class folder; move it into one")
    return folders, walker.rejected


def list_class_folder(data_dir: str, folder: ClassFolder) -> Tuple[List[Candidate], List[Tuple[str, str]]]:
    """Every entry under one class folder, as image candidates and rejects (what a worker runs)."""
    root = posixpath.join(data_dir, folder.subdir) if folder.subdir else data_dir
    path = posixpath.join(root, folder.class_name) if folder.class_name else root  # unlabelled: the data dir
    real = _real(path)
    walker = _Walker(data_dir)
    images: List[Candidate] = []
    # A link back to the data dir, the split folder or the class folder is a loop.
    inside = {_real(data_dir), _real(root), real}
    # Two class or split folders that are links can lead to the same files as well.
    linked = not is_remote(path) and (os.path.islink(path) or (bool(folder.subdir) and os.path.islink(root)))
    folder_entry = Entry(name=folder.class_name, path=path, kind=FOLDER, real_path=real)
    walker.walk_class(folder_entry, folder.class_name, inside, images, linked)
    return images, walker.rejected


def keep_first(
    paths_to_one_file: Sequence[Tuple[ClassFolder, Candidate]]
) -> Tuple[Tuple[ClassFolder, Candidate], List[Tuple[str, str]]]:
    """Of the (class folder, candidate) pairs that reach one real file, the one the walk meets first
    is read; the others are rejected, naming it. Within a folder, the walk goes in name order."""
    ordered = sorted(paths_to_one_file, key=lambda pair: (pair[0].order, pair[1].rel_path.split("/")))
    first = ordered[0]
    return first, [(candidate.rel_path, _same_file(first[1].rel_path)) for _, candidate in ordered[1:]]


def take_inventory(layout) -> Inventory:
    """Walks `layout`'s data dir (a `layout.DataLayout`) in this process; every entry becomes a
    candidate or a reject. ExampleGen runs the same steps on Beam's workers, a class folder each."""
    folders, rejected = plan_listing(layout)
    by_real_path: Dict[str, List[Tuple[ClassFolder, Candidate]]] = {}
    for folder in folders:
        images, folder_rejects = list_class_folder(layout.data_dir, folder)
        rejected += folder_rejects
        for candidate in images:
            by_real_path.setdefault(candidate.real_path, []).append((folder, candidate))
    candidates: Dict[str, List[Tuple[str, str]]] = {subdir: [] for subdir in layout.class_roots()}
    for paths in by_real_path.values():
        (folder, first), duplicates = keep_first(paths)
        rejected += duplicates
        candidates[folder.subdir].append((first.rel_path, first.class_name))
    return Inventory(candidates={subdir: sorted(images) for subdir, images in candidates.items()}, rejected=sorted(rejected))
