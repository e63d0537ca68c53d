/**
 * The app icons, drawn at build time (no image files to download or keep in sync): a sheet of
 * paper with three lines and a check mark on a dark blue tile. `client/public/icon.svg` is the
 * same drawing as SVG, in the same 0-100 coordinates, for browsers that take SVG icons.
 *
 * PNG as written here (RFC 2083 / ISO 15948): the 8-byte signature, then chunks of
 * length (u32 BE) + type + data + CRC-32 of type and data: IHDR (width, height, bit depth 8,
 * colour type 6 = RGBA, no interlace), one IDAT with the zlib-deflated rows (each row starts
 * with filter byte 0), and IEND.
 */
import { deflateSync } from 'node:zlib';
import type { Plugin } from 'vite';

type Rgba = readonly [number, number, number, number];

const TILE: Rgba = [30, 58, 138, 255];
const PAPER: Rgba = [255, 255, 255, 255];
const LINE: Rgba = [148, 163, 184, 255];
const CHECK: Rgba = [22, 163, 74, 255];

/** The drawing in 0-100 coordinates; the SVG uses the same numbers. */
const PAPER_BOX = { x0: 28, y0: 18, x1: 72, y1: 82, r: 4 };
const LINES = [28, 37, 46].map((y) => ({ x0: 36, y0: y, x1: 64, y1: y + 4, r: 2 }));
const CHECK_PATH: readonly (readonly [number, number])[] = [
  [39, 64],
  [47, 72],
  [63, 56],
];
const CHECK_HALF_WIDTH = 3.5;
const TILE_RADIUS = 22;

function inRoundedBox(x: number, y: number, b: { x0: number; y0: number; x1: number; y1: number; r: number }) {
  if (x < b.x0 || x > b.x1 || y < b.y0 || y > b.y1) return false;
  const cx = Math.min(Math.max(x, b.x0 + b.r), b.x1 - b.r);
  const cy = Math.min(Math.max(y, b.y0 + b.r), b.y1 - b.r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= b.r ** 2;
}

function distanceToSegment(x: number, y: number, a: readonly [number, number], b: readonly [number, number]) {
  const [ax, ay] = a;
  const [bx, by] = b;
  const t = Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)));
  const dx = x - (ax + t * (bx - ax));
  const dy = y - (ay + t * (by - ay));
  return Math.sqrt(dx * dx + dy * dy);
}

/** The colour at (x, y) in 0-100 coordinates; `maskable` fills the square and shrinks the sheet into the safe zone. */
function colourAt(x: number, y: number, maskable: boolean): Rgba | undefined {
  if (!maskable && !inRoundedBox(x, y, { x0: 0, y0: 0, x1: 100, y1: 100, r: TILE_RADIUS })) return undefined;
  // Maskable icons may be cropped to a circle of 80% diameter: scale the drawing into it.
  const [u, v] = maskable ? [50 + (x - 50) / 0.8, 50 + (y - 50) / 0.8] : [x, y];
  for (let i = 1; i < CHECK_PATH.length; i++) {
    if (distanceToSegment(u, v, CHECK_PATH[i - 1]!, CHECK_PATH[i]!) <= CHECK_HALF_WIDTH) return CHECK;
  }
  if (LINES.some((l) => inRoundedBox(u, v, l))) return LINE;
  if (inRoundedBox(u, v, PAPER_BOX)) return PAPER;
  return TILE;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A `size` x `size` PNG of the icon, anti-aliased with 4 x 4 samples per pixel on the edges. */
export function drawIconPng(size: number, options: { maskable?: boolean } = {}): Buffer {
  const maskable = options.maskable ?? false;
  const SAMPLES = 4;
  const sample = (px: number, py: number, sx: number, sy: number) =>
    colourAt(((px + (sx + 0.5) / SAMPLES) / size) * 100, ((py + (sy + 0.5) / SAMPLES) / size) * 100, maskable);
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let py = 0; py < size; py++) {
    const rowStart = py * (size * 4 + 1);
    rows[rowStart] = 0; // filter: none
    for (let px = 0; px < size; px++) {
      const at = rowStart + 1 + px * 4;
      // Inside a shape (all four corner samples alike) one sample is the pixel; on an edge, all 16.
      const corner = sample(px, py, 0, 0);
      const last = SAMPLES - 1;
      if (
        corner === sample(px, py, last, 0) &&
        corner === sample(px, py, 0, last) &&
        corner === sample(px, py, last, last)
      ) {
        if (corner) rows.set(corner, at);
        continue;
      }
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const c = sample(px, py, sx, sy);
          if (!c) continue;
          // Weighted by alpha, so that edge pixels blend toward the colour, not toward black.
          for (let i = 0; i < 3; i++) sum[i]! += c[i]! * c[3];
          sum[3]! += c[3];
        }
      }
      const alpha = sum[3]!;
      for (let i = 0; i < 3; i++) rows[at + i] = alpha === 0 ? 0 : Math.round(sum[i]! / alpha);
      rows[at + 3] = Math.round(alpha / (SAMPLES * SAMPLES));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The PNG icons the manifest and the pages name, by file name under the output folder. */
export const PNG_ICONS = [
  { fileName: 'icons/icon-192.png', size: 192, maskable: false },
  { fileName: 'icons/icon-512.png', size: 512, maskable: false },
  { fileName: 'icons/maskable-512.png', size: 512, maskable: true },
  { fileName: 'icons/apple-touch-icon-180.png', size: 180, maskable: true },
] as const;

/** Vite plugin: emits PNG_ICONS into the build. */
export function appIcons(): Plugin {
  return {
    name: 'exam-hall:app-icons',
    apply: 'build',
    generateBundle() {
      for (const icon of PNG_ICONS) {
        this.emitFile({
          type: 'asset',
          fileName: icon.fileName,
          source: drawIconPng(icon.size, { maskable: icon.maskable }),
        });
      }
    },
  };
}
