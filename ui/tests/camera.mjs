// A camera for the browser: Chromium's fake capture device plays a Y4M file, so the app's
// camera scan (getUserMedia, frames to the core's QR reader) sees a QR code held up to it.
import { inflateSync } from "node:zlib";

/// The 8-bit grayscale pixels of a PNG (as `postern qr show --png` writes it: 8-bit gray,
/// not interlaced); anything else is an error.
export function grayPixels(png) {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString("latin1", pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 0 || data[12] !== 0) throw new Error("not an 8-bit grayscale PNG");
    } else if (type === "IDAT") idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (width + 1)];
    const line = raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1));
    for (let x = 0; x < width; x++) {
      const a = x > 0 ? out[y * width + x - 1] : 0;
      const b = y > 0 ? out[(y - 1) * width + x] : 0;
      const c = x > 0 && y > 0 ? out[(y - 1) * width + x - 1] : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      if (pred === undefined) throw new Error(`PNG filter ${filter}`);
      out[y * width + x] = (line[x] + pred) & 0xff;
    }
  }
  return { width, height, pixels: out };
}

function paeth(a, b, c) {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/// One 640x480 Y4M frame (4:2:0) of `image` scaled to 440 px high, centred on white: what a
/// phone's camera shows when the other person's screen is held up to it.
export function y4mOf(image) {
  const [W, H, side] = [640, 480, 440];
  const y = new Uint8Array(W * H).fill(235);
  const [left, top] = [(W - side) >> 1, (H - side) >> 1];
  for (let j = 0; j < side; j++) {
    for (let i = 0; i < side; i++) {
      const sx = Math.floor((i * image.width) / side);
      const sy = Math.floor((j * image.height) / side);
      // Full-range gray to video range (16-235), as a camera delivers it.
      y[(top + j) * W + left + i] = 16 + Math.round((image.pixels[sy * image.width + sx] * 219) / 255);
    }
  }
  const chroma = new Uint8Array((W / 2) * (H / 2)).fill(128);
  const header = Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\nFRAME\n`, "latin1");
  return Buffer.concat([header, y, chroma, chroma]);
}
