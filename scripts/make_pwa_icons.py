"""Draw the PWA icons (static/pwa/icon-192.png, icon-512.png, icon-maskable-512.png) with Pillow.

Run again after changing the colours: `.venv/bin/python scripts/make_pwa_icons.py`. A blue rounded
square with a white "T" and a small globe arc: readable at 48 px on a phone's home screen. The
maskable one keeps everything inside the central 80 % safe zone on a full-bleed background.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "static" / "pwa"
BLUE = (32, 107, 196, 255)
WHITE = (255, 255, 255, 255)


def draw(size: int, *, maskable: bool) -> Image.Image:
    scale = 4  # draw large, then shrink: smooth edges without a font or an SVG renderer
    big = size * scale
    img = Image.new("RGBA", (big, big), BLUE if maskable else (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if not maskable:
        d.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BLUE)
    inset = big * (0.2 if maskable else 0.1)  # maskable: keep inside the safe zone
    box = (inset, inset, big - inset, big - inset)
    w = box[2] - box[0]
    stroke = int(w * 0.11)
    # the globe: a circle outline and its equator
    d.ellipse(box, outline=(255, 255, 255, 110), width=max(2, stroke // 3))
    cy = (box[1] + box[3]) / 2
    d.line((box[0] + stroke, cy, box[2] - stroke, cy), fill=(255, 255, 255, 110), width=max(2, stroke // 3))
    # the "T"
    top = box[1] + w * 0.22
    d.rectangle((box[0] + w * 0.2, top, box[2] - w * 0.2, top + stroke), fill=WHITE)
    cx = (box[0] + box[2]) / 2
    d.rectangle((cx - stroke / 2, top, cx + stroke / 2, box[3] - w * 0.18), fill=WHITE)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    draw(192, maskable=False).save(OUT / "icon-192.png", optimize=True)
    draw(512, maskable=False).save(OUT / "icon-512.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    draw(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    print("wrote", ", ".join(p.name for p in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
