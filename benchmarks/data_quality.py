"""Figure 6: what the DataQuality step finds of planted problems, what it reports that was not
planted, and what the fingerprints, the embeddings and the step cost from 2k to 200k images.

Recall: a train/ and eval/ folder of Fashion-MNIST images (train images in train/, test images in
eval/, each once), with --planted of each kind planted: exact copies of train images in eval,
JPEG re-encodes at quality 75, 90%-size resizes and 5% crops (a random 95% x 95% window) of train
images in eval, and train images copied into another class (train). --flip-share of the other
train images are filed under another class instead of their own (label flips). ExampleGen,
Embeddings and DataQuality run as in every run; a planted pair counts as found when both its
images are in one reported group. A reported pair that was not planted is a false pair; the share
is of the unplanted images that are in one. Label issues are scored against the flips: precision
and recall of the flagged list, and of its first k where k is the true number of flips.

Scale (--scale): the data steps on 2k to 200k unplanted images, each size in a fresh process, with
ExampleGen's (which computes the fingerprints), Embeddings' and DataQuality's own seconds from ML
Metadata, and the process's peak memory.
"""
from __future__ import annotations

import argparse
import io
import itertools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import CACHE, each_size_in_its_own_process, FASHION_CLASSES, emit, fashion_images, load_fashion_mnist, peak_rss_mib, run_data_steps, write_image_folders

KINDS = ("exact", "jpeg_q75", "resize_90", "crop_5", "two_classes")


def _planted_folder(root: Path, images_per_split: int, planted: int, flip_share: float, seed: int = 0):
    """Writes the folder once; returns ({kind: [(path, path)]} of the planted pairs, the flipped
    paths), relative."""
    from PIL import Image

    done = root / "planted.json"
    if done.exists():
        saved = json.loads(done.read_text())
        return {k: [tuple(p) for p in v] for k, v in saved["pairs"].items()}, saved["flips"]
    rng = np.random.RandomState(seed)
    splits = {"train": load_fashion_mnist("train"), "eval": load_fashion_mnist("test")}
    chosen = {}
    for split, (images, labels) in splits.items():
        chosen[split] = rng.choice(len(labels), images_per_split, replace=False)
        for index in chosen[split]:
            path = root / split / FASHION_CLASSES[labels[index]] / f"{index:05d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[index]).save(path)
    images, labels = splits["train"]
    sources = iter(rng.permutation(chosen["train"]))
    pairs = {}
    for kind in KINDS:
        pairs[kind] = []
        for _ in range(planted):
            index = next(sources)
            name, original = FASHION_CLASSES[labels[index]], f"train/{FASHION_CLASSES[labels[index]]}/{index:05d}.png"
            picture = Image.fromarray(images[index])
            if kind == "two_classes":
                other = FASHION_CLASSES[(labels[index] + 1 + rng.randint(len(FASHION_CLASSES) - 1)) % len(FASHION_CLASSES)]
                copy = f"train/{other}/{kind}-{index:05d}.png"
            else:
                copy = f"eval/{name}/{kind}-{index:05d}." + ("jpg" if kind == "jpeg_q75" else "png")
            target = root / copy
            if kind == "jpeg_q75":
                buffer = io.BytesIO()
                picture.save(buffer, format="JPEG", quality=75)
                target.write_bytes(buffer.getvalue())
            elif kind == "resize_90":
                picture.resize((25, 25), Image.Resampling.LANCZOS).save(target)
            elif kind == "crop_5":
                x, y = rng.randint(0, 2), rng.randint(0, 2)  # 27 of 28 pixels: 5% (rounded) off, at a random side
                picture.crop((x, y, x + 27, y + 27)).save(target)
            else:
                picture.save(target)
            pairs[kind].append((original, copy))
    sources = {int(Path(a).stem) for kind_pairs in pairs.values() for a, _ in kind_pairs}
    others = [i for i in chosen["train"] if int(i) not in sources]
    flips = []
    for index in rng.choice(others, int(round(flip_share * len(chosen["train"]))), replace=False):
        name = FASHION_CLASSES[labels[index]]
        other = FASHION_CLASSES[(labels[index] + 1 + rng.randint(len(FASHION_CLASSES) - 1)) % len(FASHION_CLASSES)]
        source, target = root / "train" / name / f"{index:05d}.png", root / "train" / other / f"flip-{index:05d}.png"
        source.rename(target)
        flips.append(str(target.relative_to(root)))
    done.write_text(json.dumps({"pairs": pairs, "flips": sorted(flips)}))
    return pairs, sorted(flips)


def _label_scores(quality, flips, copies) -> dict:
    """Against the wrong labels planted: the flips, and the copies of train images filed under
    another class (one label of each such pair is wrong: the copy's)."""
    flagged = [issue.path for issue in quality.label_issues]
    truth = set(flips) | set(copies)
    hits = sum(path in truth for path in flagged)
    top = sum(path in truth for path in flagged[: len(truth)])
    check = quality.label_check
    return {
        "flips": len(flips),
        "copies_under_another_class": len(copies),
        "wrong_labels": len(truth),
        "flagged": len(flagged),
        "flips_flagged": sum(path in set(flips) for path in flagged),
        "precision": round(hits / max(1, len(flagged)), 3),
        "recall": round(hits / max(1, len(truth)), 3),
        "precision_and_recall_of_the_first_k_flagged_k_the_wrong_labels": round(top / max(1, len(truth)), 3),
        "estimated_label_errors": check.estimated_label_errors,
        "classifier_accuracy": check.classifier_accuracy,
        "classifier_balanced_accuracy": check.classifier_balanced_accuracy,
        "judged": check.judged,
        "reason": check.reason,
    }


def recall(images_per_split: int, planted: int, flip_share: float, beam_args) -> dict:
    from pipeline import console, dag, run_record

    console.quiet_libraries(verbose=False)
    root = CACHE / f"planted-{images_per_split}-{planted}-flips{flip_share:g}"
    pairs, flips = _planted_folder(root, images_per_split, planted, flip_share)
    seconds, record = run_data_steps(root, Path(tempfile.mkdtemp(prefix="quality-")), beam_args, enable_cache=False, last_component=dag.DATA_QUALITY)
    quality = run_record.collect(record).quality
    group_of = {}
    for kind in ("exact_duplicates", "near_duplicates"):
        for number, group in enumerate(getattr(quality, kind)):
            for image in group.images:
                group_of[image.path] = (kind, number)
    found = {kind: sum(1 for a, b in kind_pairs if a in group_of and group_of[a] == group_of.get(b)) for kind, kind_pairs in pairs.items()}
    planted_pairs = {tuple(sorted(p)) for kind_pairs in pairs.values() for p in kind_pairs}
    planted_paths = {path for pair in planted_pairs for path in pair}
    false_pairs, in_false = [], set()
    for kind in ("exact_duplicates", "near_duplicates"):
        for group in getattr(quality, kind):
            for a, b in itertools.combinations(sorted(i.path for i in group.images), 2):
                if (a, b) not in planted_pairs:
                    false_pairs.append([a, b])
                    in_false.update(p for p in (a, b) if p not in planted_paths)
    unplanted = 2 * images_per_split - len({a for a, _ in planted_pairs})
    far = [o.path for o in quality.outliers if o.kind == "far_from_class"]
    return {
        "label_issues": _label_scores(quality, flips, [copy for _, copy in pairs["two_classes"]]),
        "far_from_class": {"count": len(far), "share": round(len(far) / (2 * images_per_split), 4), "examples": far[:10]},
        "data_quality_stage_seconds": quality.seconds,
        "images": 2 * images_per_split + planted * len(KINDS),
        "planted_per_kind": planted,
        "found": found,
        "recall": {kind: round(n / planted, 3) for kind, n in found.items()},
        "false_pairs": len(false_pairs),
        "unplanted_images_in_a_false_pair": len(in_false),
        "false_pair_image_share": round(len(in_false) / unplanted, 4),
        "false_pair_examples": false_pairs[:20],
        "seconds_to_data_quality": round(seconds, 1),
        "step_seconds": {node: run.seconds for node, run in record.nodes.items()},
    }


def one_size(n: int, beam_args) -> dict:
    """Runs in its own process: the data steps up to DataQuality on n unplanted images."""
    from pipeline import console, dag, run_record

    console.quiet_libraries(verbose=False)
    images, labels = fashion_images(n)
    data_dir = CACHE / f"fashion-{n}"
    write_image_folders(data_dir, images, labels)
    seconds, record = run_data_steps(
        data_dir, Path(tempfile.mkdtemp(prefix=f"quality-{n}-")), beam_args, enable_cache=False, last_component=dag.DATA_QUALITY
    )
    steps = {node: run.seconds for node, run in record.nodes.items()}
    quality = run_record.collect(record).quality
    return {
        "images": n,
        "seconds": round(seconds, 1),
        "step_seconds": steps,
        "data_quality_stage_seconds": quality.seconds,
        "found": quality.counts.to_json(),
        "peak_rss_mib": round(peak_rss_mib(), 0),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images-per-split", type=int, default=5000, help="unplanted images in train/ and in eval/ each")
    parser.add_argument("--planted", type=int, default=100, help="planted pairs of each kind")
    parser.add_argument("--flip-share", type=float, default=0.05, help="share of the train images filed under another class")
    parser.add_argument("--scale", type=int, nargs="*", help="measure time and memory at these sizes instead (e.g. 2000 50000 200000)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--beam-arg", action="append", default=[])
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_size(args.one, args.beam_arg)))
        return
    if args.scale is None:
        result = recall(args.images_per_split, args.planted, args.flip_share, args.beam_arg)
        result["targets"] = {"exact_jpeg_resize": "all found", "crop_5": ">= 0.9", "false_pair_image_share": "< 0.001"}
        emit(result, "LocalDagRunner, cache off, the DAG up to DataQuality; Fashion-MNIST 28x28 PNG folders written once under the temp dir", sys.argv)
        return
    runs = each_size_in_its_own_process(__file__, args.scale, args.beam_arg)

    def per_image(run, node):
        return run["step_seconds"][node] / run["images"]

    small, large = runs[0], runs[-1]
    emit(
        {
            "figure": "fingerprints (in ExampleGen), Embeddings and DataQuality: seconds per image and peak memory",
            "runs": runs,
            "per_image_ratio_largest_vs_smallest": {
                node: round(per_image(large, node) / per_image(small, node), 3)
                for node in ("ImageExampleGen", "Embeddings", "DataQuality")
            },
            "peak_memory_ratio_largest_vs_smallest": round(large["peak_rss_mib"] / small["peak_rss_mib"], 3),
            "targets": {"per_image_ratio": "<= 1.1", "peak_memory_ratio": "<= 1.5", "peak_memory_at_the_largest": "< 4096 MiB"},
        },
        "LocalDagRunner, cache off, the DAG up to DataQuality, each size in a fresh process; Fashion-MNIST train images as 28x28 PNG class folders",
        sys.argv,
    )


if __name__ == "__main__":
    main()
