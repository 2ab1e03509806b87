"""The built-in sample: real digits, about two thirds 'zero', identical every time."""
import hashlib

from PIL import Image

from pipeline.sample_data import CLASS_NAMES, ensure_sample_dataset, write_sample_dataset


def digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.png"))}


def test_sample_is_imbalanced_like_users_data(sample_dir):
    counts = {name: len(list((sample_dir / name).glob("*.png"))) for name in CLASS_NAMES}
    total = sum(counts.values())
    assert max(counts, key=counts.get) == "zero"
    assert 0.64 <= counts["zero"] / total <= 0.69
    assert all(counts[name] == 10 for name in CLASS_NAMES if name != "zero")


def test_sample_images_are_32px_grayscale_pngs(sample_dir):
    image = Image.open(next((sample_dir / "seven").glob("*.png")))
    assert (image.format, image.mode, image.size) == ("PNG", "L", (32, 32))


def test_sample_is_deterministic(sample_dir, tmp_path):
    write_sample_dataset(tmp_path / "again")
    assert digest(tmp_path / "again") == digest(sample_dir)


def test_existing_sample_is_left_alone(tmp_path):
    target = tmp_path / "sample"
    assert ensure_sample_dataset(target) is True
    marker = target / "zero" / "kept.txt"
    marker.write_text("mine")
    assert ensure_sample_dataset(target) is False
    assert marker.read_text() == "mine"
