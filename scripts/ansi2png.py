#!/usr/bin/env python3
"""Renders a terminal screen captured with `tmux capture-pane -e -p` (text with SGR colour
sequences) to a PNG: one monospace cell per character, colours as a dark terminal shows
them. Usage: ansi2png.py SCREEN.ansi OUT.png COLUMNS ROWS"""

import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu"]
SIZE = 15

# A dark theme's 16 colours; then the xterm 256-colour cube and grey ramp.
BASE16 = [
    "#1e1e1e", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#cccccc",
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
]
DEFAULT_FG, DEFAULT_BG = "#d4d4d4", "#1e1e1e"


def rgb(h):
    return tuple(int(h[i : i + 2], 16) for i in (1, 3, 5))


def palette(n):
    if n < 16:
        return rgb(BASE16[n])
    if n < 232:
        n -= 16
        levels = [0, 95, 135, 175, 215, 255]
        return (levels[n // 36], levels[(n // 6) % 6], levels[n % 6])
    g = 8 + 10 * (n - 232)
    return (g, g, g)


def font(name):
    for d in FONT_DIRS:
        try:
            return ImageFont.truetype(f"{d}/{name}", SIZE)
        except OSError:
            continue
    sys.exit(f"ansi2png: font {name} not found (install fonts-dejavu-core)")


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.underline = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.underline = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = palette(c - 30)
            elif 90 <= c <= 97:
                self.fg = palette(c - 90 + 8)
            elif 40 <= c <= 47:
                self.bg = palette(c - 40)
            elif 100 <= c <= 107:
                self.bg = palette(c - 100 + 8)
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    col = palette(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    col = tuple(codes[i + 2 : i + 5])
                    i += 4
                else:
                    col = None
                if c == 38:
                    self.fg = col
                else:
                    self.bg = col
            i += 1

    def colours(self):
        fg = self.fg or rgb(DEFAULT_FG)
        bg = self.bg or rgb(DEFAULT_BG)
        if self.reverse:
            fg, bg = bg, fg
        if self.dim:
            fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
        return fg, bg


def main():
    src, dst, cols, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    regular, bold = font("DejaVuSansMono.ttf"), font("DejaVuSansMono-Bold.ttf")
    italic, bold_italic = font("DejaVuSansMono-Oblique.ttf"), font("DejaVuSansMono-BoldOblique.ttf")
    cw = round(regular.getlength("M"))
    ascent, descent = regular.getmetrics()
    ch = ascent + descent + 2
    pad = 12
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * ch + 2 * pad), rgb(DEFAULT_BG))
    draw = ImageDraw.Draw(img)
    text = open(src, encoding="utf-8", errors="replace").read()
    token = re.compile(r"\x1b\[([0-9;]*)m|\x1b[^a-zA-Z]*[a-zA-Z]|(.)", re.S)
    style = Style()
    for y, line in enumerate(text.split("\n")[:rows]):
        x = 0
        for m in token.finditer(line):
            if m.group(1) is not None:
                style.apply(m.group(1))
                continue
            c = m.group(2)
            if c is None or unicodedata.combining(c):
                continue
            w = 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
            if x + w > cols:
                break
            fg, bg = style.colours()
            px, py = pad + x * cw, pad + y * ch
            draw.rectangle([px, py, px + w * cw - 1, py + ch - 1], fill=bg)
            f = {(False, False): regular, (True, False): bold,
                 (False, True): italic, (True, True): bold_italic}[(style.bold, style.italic)]
            if c != " ":
                draw.text((px, py + 1), c, font=f, fill=fg)
            if style.underline:
                draw.line([px, py + ch - 2, px + w * cw - 1, py + ch - 2], fill=fg)
            x += w
        # No reset here: tmux emits a style only when it changes, so it carries over lines.
    img.save(dst)


if __name__ == "__main__":
    main()
