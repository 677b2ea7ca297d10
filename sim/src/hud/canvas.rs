//! Drawing primitives over an RGBA frame: clipped rectangles (opaque or blended) and text
//! from the `font8x8` bitmap font, scaled by whole pixels.
//!
//! Everything clips to the frame, so callers may pass any coordinates (negative, or past the
//! edge) without a panic.

use font8x8::legacy::BASIC_LEGACY;

/// An RGB colour.
pub type Rgb = [u8; 3];

/// Width and height of one glyph of the font, in font pixels.
pub const GLYPH: u32 = 8;

/// A rectangle in pixels; may lie partly or wholly outside the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub fn new(x: i32, y: i32, w: u32, h: u32) -> Rect {
        Rect { x, y, w, h }
    }
}

/// An RGBA frame to draw on.
pub struct Canvas<'a> {
    frame: &'a mut [u8],
    width: u32,
    height: u32,
}

impl<'a> Canvas<'a> {
    /// Wraps `frame`, or `None` if it is not `width * height * 4` bytes.
    pub fn new(frame: &'a mut [u8], width: u32, height: u32) -> Option<Canvas<'a>> {
        let expected = (width as usize)
            .checked_mul(height as usize)?
            .checked_mul(4)?;
        (frame.len() == expected).then_some(Canvas {
            frame,
            width,
            height,
        })
    }

    /// Frame width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Frame height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Paints `rect` with `color`, opaque.
    pub fn fill(&mut self, rect: Rect, color: Rgb) {
        let Some((x0, y0, x1, y1)) = self.clip(rect) else {
            return;
        };
        let px = [color[0], color[1], color[2], 255];
        let row_bytes = self.width as usize * 4;
        for y in y0..y1 {
            let row = &mut self.frame[y * row_bytes + x0 * 4..y * row_bytes + x1 * 4];
            for out in row.chunks_exact_mut(4) {
                out.copy_from_slice(&px);
            }
        }
    }

    /// Mixes `color` into `rect` with opacity `alpha` (0 transparent, 255 opaque).
    pub fn blend(&mut self, rect: Rect, color: Rgb, alpha: u8) {
        let Some((x0, y0, x1, y1)) = self.clip(rect) else {
            return;
        };
        let a = u32::from(alpha);
        // The colour's share, computed once: out = (c * (255 - a) + t * a) / 255.
        let tint = color.map(|t| u32::from(t) * a + 127);
        let row_bytes = self.width as usize * 4;
        for y in y0..y1 {
            let row = &mut self.frame[y * row_bytes + x0 * 4..y * row_bytes + x1 * 4];
            for px in row.chunks_exact_mut(4) {
                for (c, t) in px[..3].iter_mut().zip(tint) {
                    *c = ((u32::from(*c) * (255 - a) + t) / 255) as u8;
                }
                px[3] = 255;
            }
        }
    }

    /// Draws `text` with its top-left corner at `(x, y)`, each font pixel `scale` pixels
    /// wide. Characters outside ASCII show as `?`. Returns the x just past the last glyph.
    pub fn text(&mut self, x: i32, y: i32, scale: u32, color: Rgb, text: &str) -> i32 {
        let advance = (GLYPH * scale) as i32;
        let mut at = x;
        for ch in text.chars() {
            self.glyph(at, y, scale, color, glyph_bits(ch));
            at = at.saturating_add(advance);
        }
        at
    }

    fn glyph(&mut self, x: i32, y: i32, scale: u32, color: Rgb, bits: [u8; 8]) {
        let s = scale as i32;
        for (row, line) in bits.iter().enumerate() {
            for col in 0..GLYPH as i32 {
                if line & (1 << col) != 0 {
                    let px = x.saturating_add(col * s);
                    let py = y.saturating_add(row as i32 * s);
                    self.fill(Rect::new(px, py, scale, scale), color);
                }
            }
        }
    }

    /// The part of `rect` inside the frame as `(x0, y0, x1, y1)`, or `None` if empty.
    fn clip(&self, rect: Rect) -> Option<(usize, usize, usize, usize)> {
        let x0 = i64::from(rect.x).max(0);
        let y0 = i64::from(rect.y).max(0);
        let x1 = (i64::from(rect.x) + i64::from(rect.w)).min(i64::from(self.width));
        let y1 = (i64::from(rect.y) + i64::from(rect.h)).min(i64::from(self.height));
        (x0 < x1 && y0 < y1).then_some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
    }
}

/// The 8x8 bitmap of `ch` (row by row, bit 0 leftmost); `?` for characters the font lacks.
fn glyph_bits(ch: char) -> [u8; 8] {
    let index = if ch.is_ascii() {
        ch as usize
    } else {
        '?' as usize
    };
    BASIC_LEGACY[index]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: u32, h: u32) -> Vec<u8> {
        vec![0u8; (w * h * 4) as usize]
    }

    fn pixel(frame: &[u8], w: u32, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * w + x) * 4) as usize;
        frame[i..i + 4].try_into().unwrap()
    }

    #[test]
    fn rejects_a_frame_of_the_wrong_size() {
        let mut f = frame(4, 4);
        assert!(Canvas::new(&mut f, 5, 4).is_none());
        assert!(Canvas::new(&mut f, u32::MAX, u32::MAX).is_none());
        assert!(Canvas::new(&mut f, 4, 4).is_some());
    }

    #[test]
    fn rectangles_clip_to_the_frame() {
        let mut f = frame(8, 8);
        let mut c = Canvas::new(&mut f, 8, 8).unwrap();
        c.fill(Rect::new(-4, -4, 6, 6), [255, 0, 0]);
        c.fill(
            Rect::new(i32::MAX, i32::MIN, u32::MAX, u32::MAX),
            [0, 255, 0],
        );
        c.fill(Rect::new(6, 6, 100, 100), [0, 0, 255]);
        assert_eq!(pixel(&f, 8, 1, 1), [255, 0, 0, 255]);
        assert_eq!(pixel(&f, 8, 2, 2), [0, 0, 0, 0]);
        assert_eq!(pixel(&f, 8, 7, 7), [0, 0, 255, 255]);
    }

    #[test]
    fn blending_mixes_towards_the_colour() {
        let mut f = frame(2, 1);
        let mut c = Canvas::new(&mut f, 2, 1).unwrap();
        c.fill(Rect::new(0, 0, 2, 1), [200, 200, 200]);
        c.blend(Rect::new(0, 0, 1, 1), [0, 0, 0], 128);
        assert_eq!(pixel(&f, 2, 0, 0), [100, 100, 100, 255]);
        assert_eq!(pixel(&f, 2, 1, 0), [200, 200, 200, 255]);
    }

    #[test]
    fn text_lights_the_glyph_pixels_at_scale() {
        let mut f = frame(32, 16);
        let mut c = Canvas::new(&mut f, 32, 16).unwrap();
        let end = c.text(0, 0, 2, [255, 255, 255], "I|");
        assert_eq!(end, 32);
        let lit = f.chunks_exact(4).filter(|p| p[0] == 255).count();
        let bits: u32 = glyph_bits('I')
            .iter()
            .chain(&glyph_bits('|'))
            .map(|b| b.count_ones())
            .sum();
        assert_eq!(lit as u32, bits * 4, "each font pixel is 2x2");
        // 'I' is a vertical bar in the middle of its cell: its centre column is lit.
        assert_eq!(pixel(&f, 32, 7, 8)[0], 255);
        assert_eq!(pixel(&f, 32, 0, 8)[0], 0);
    }

    #[test]
    fn unknown_characters_draw_a_question_mark() {
        assert_eq!(glyph_bits('é'), glyph_bits('?'));
    }
}
