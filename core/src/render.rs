//! The software renderer: draws a [`World`] into a [`Frame`] of any size.
//!
//! Everything is drawn at a logical resolution of about 320×180 scene
//! pixels, then scaled up by a whole number (`zoom`), so a 1080p frame costs
//! little more than a 320×180 one and stays crisp pixel art. All maths is
//! integer, so frames are bit-identical in debug and release.

use advkit_frame::Canvas;

use crate::rng::hash3;
use crate::scene::{Pattern, Rgb, Scene, TILE_PX};
use crate::sprites::{self, Pose};
use crate::world::{Actor, Dir, SUB, Settings, World};

const T: usize = TILE_PX as usize;
/// The part of the world in view at automatic zoom.
pub const LOGICAL_WIDTH: u32 = 320;
pub const LOGICAL_HEIGHT: u32 = 180;
const WATER_FRAMES: usize = 4;
const GLYPH: i32 = 8;

const OUTLINE: Rgb = Rgb(0x1c, 0x16, 0x20);
const SKIN: Rgb = Rgb(0xf2, 0xc0, 0x98);
const PLAYER_BODY: Rgb = Rgb(0x30, 0x68, 0xd8);
const PLAYER_HAIR: Rgb = Rgb(0xf4, 0xc8, 0x38);
const HUD_TEXT: Rgb = Rgb(0xf8, 0xf4, 0xe8);
const HUD_TAGS: Rgb = Rgb(0xf8, 0xd8, 0x60);
const HUD_BORDER: Rgb = Rgb(0xd8, 0xc8, 0xa0);

fn pack(c: Rgb) -> u32 {
    u32::from_ne_bytes([c.0, c.1, c.2, 255])
}

fn unpack(p: u32) -> Rgb {
    let [r, g, b, _] = p.to_ne_bytes();
    Rgb(r, g, b)
}

/// Halves a pixel's brightness: each byte shifted right, with the bit that
/// would cross into the next byte masked off. Alpha is put back to 255.
fn darken_half(p: u32) -> u32 {
    ((p >> 1) & u32::from_ne_bytes([0x7f, 0x7f, 0x7f, 0x7f])) | u32::from_ne_bytes([0, 0, 0, 255])
}

/// Pixel `a` weighted `w/256` over `b`.
fn blend(a: Rgb, b: Rgb, w: u32) -> Rgb {
    let m = |x: u8, y: u8| ((u32::from(x) * w + u32::from(y) * (256 - w)) / 256) as u8;
    Rgb(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// A 16×16 texture, packed pixels.
type Texture = [u32; T * T];

/// Draws worlds of one scene. Holds the scene's tile textures and a
/// scratch buffer, so drawing allocates nothing after the first frame.
#[derive(Debug)]
pub struct Renderer {
    /// `textures[tile][anim frame]`.
    textures: Vec<Vec<Texture>>,
    background: u32,
    logical: Vec<u32>,
    lw: usize,
    lh: usize,
    /// One scaled-up output row, built once and handed to the canvas.
    row: Vec<u8>,
}

impl Renderer {
    pub fn new(scene: &Scene) -> Renderer {
        let textures = scene
            .tiles
            .iter()
            .map(|t| {
                let frames = if t.pattern == Pattern::Water {
                    WATER_FRAMES
                } else {
                    1
                };
                (0..frames)
                    .map(|f| tile_texture(t.pattern, t.color, t.accent, t.glyph, f))
                    .collect()
            })
            .collect();
        Renderer {
            textures,
            background: pack(scene.background),
            logical: Vec::new(),
            lw: 0,
            lh: 0,
            row: Vec::new(),
        }
    }

    /// The zoom used for a frame size: the setting, or the largest whole
    /// number that keeps at least 320×180 of the world in view.
    pub fn zoom_for(width: u32, height: u32, setting: u32) -> u32 {
        let auto = (width / LOGICAL_WIDTH).min(height / LOGICAL_HEIGHT).max(1);
        let z = if setting == 0 { auto } else { setting };
        z.clamp(1, width.min(height).max(1))
    }

    /// Draws the world as it is at `world.tick` into `canvas` (a
    /// [`Frame`](crate::Frame), or a loaned slot of the frame region).
    pub fn render<C: Canvas + ?Sized>(
        &mut self,
        scene: &Scene,
        world: &World,
        settings: &Settings,
        canvas: &mut C,
    ) {
        let (w, h) = (canvas.width(), canvas.height());
        let zoom = Renderer::zoom_for(w, h, settings.zoom);
        self.lw = w.div_ceil(zoom) as usize;
        self.lh = h.div_ceil(zoom) as usize;
        self.logical.clear();
        self.logical.resize(self.lw * self.lh, self.background);

        let cam = self.camera(scene, &world.player);
        self.draw_tiles(scene, world.tick, cam);
        if settings.show_grid {
            self.draw_grid(scene, cam);
        }
        self.draw_actors(world, cam);
        if settings.night > 0 {
            self.tint(settings.night);
        }
        if settings.show_hud {
            self.draw_hud(world, settings);
        }
        self.upscale(zoom as usize, canvas);
    }

    /// The scene pixel shown at frame pixel `(x, y)` of a frame of
    /// `width`×`height` (outside the map when the map is smaller).
    pub fn scene_pixel(
        scene: &Scene,
        world: &World,
        settings: &Settings,
        (width, height): (u32, u32),
        (x, y): (u32, u32),
    ) -> (i32, i32) {
        let zoom = Renderer::zoom_for(width, height, settings.zoom);
        let (lw, lh) = (
            width.div_ceil(zoom) as usize,
            height.div_ceil(zoom) as usize,
        );
        let (cx, cy) = camera(scene, &world.player, lw, lh);
        (cx + (x / zoom) as i32, cy + (y / zoom) as i32)
    }

    /// Where `actor` is drawn in a frame of `width`×`height`: `[x, y, w,
    /// h]` in frame pixels, clipped to the frame; `None` when out of view.
    pub fn actor_box(
        scene: &Scene,
        world: &World,
        settings: &Settings,
        (width, height): (u32, u32),
        actor: &Actor,
    ) -> Option<[u32; 4]> {
        let zoom = Renderer::zoom_for(width, height, settings.zoom);
        let (lw, lh) = (
            width.div_ceil(zoom) as usize,
            height.div_ceil(zoom) as usize,
        );
        let (cx, cy) = camera(scene, &world.player, lw, lh);
        let zoom = zoom as i32;
        let x0 = (actor.x.div_euclid(SUB) - cx) * zoom;
        let y0 = (actor.y.div_euclid(SUB) - cy) * zoom;
        let x1 = (x0 + T as i32 * zoom).min(width as i32);
        let y1 = (y0 + T as i32 * zoom).min(height as i32);
        let (x0, y0) = (x0.max(0), y0.max(0));
        (x1 > x0 && y1 > y0).then(|| [x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32])
    }

    fn camera(&self, scene: &Scene, player: &Actor) -> (i32, i32) {
        camera(scene, player, self.lw, self.lh)
    }

    fn draw_tiles(&mut self, scene: &Scene, tick: u64, (cx, cy): (i32, i32)) {
        let (lw, lh) = (self.lw as i32, self.lh as i32);
        let water_frame = (tick / 10) as usize % WATER_FRAMES;
        let tx0 = cx.div_euclid(T as i32).max(0);
        let ty0 = cy.div_euclid(T as i32).max(0);
        let tx1 = (cx + lw - 1)
            .div_euclid(T as i32)
            .min(scene.width as i32 - 1);
        let ty1 = (cy + lh - 1)
            .div_euclid(T as i32)
            .min(scene.height as i32 - 1);
        for ty in ty0..=ty1 {
            for tx in tx0..=tx1 {
                let idx = scene.tile_index(tx as u32, ty as u32);
                let frames = &self.textures[idx];
                let tex = &frames[water_frame % frames.len()];
                let organic = matches!(
                    scene.tiles[idx].pattern,
                    Pattern::Speckle | Pattern::Flowers
                );
                let mirror = organic && hash3(tx as u32, ty as u32, 7) & 1 == 1;
                let sx = tx * T as i32 - cx;
                let x0 = sx.max(0);
                let x1 = (sx + T as i32).min(lw);
                for row in 0..T as i32 {
                    let sy = ty * T as i32 + row - cy;
                    if sy < 0 || sy >= lh {
                        continue;
                    }
                    let dst = &mut self.logical[(sy * lw) as usize..][x0 as usize..x1 as usize];
                    let src = &tex[row as usize * T..][..T];
                    let (a, b) = ((x0 - sx) as usize, (x1 - sx) as usize);
                    if mirror {
                        for (d, s) in dst.iter_mut().zip(src[T - b..T - a].iter().rev()) {
                            *d = *s;
                        }
                    } else {
                        dst.copy_from_slice(&src[a..b]);
                    }
                }
            }
        }
    }

    fn draw_grid(&mut self, scene: &Scene, (cx, cy): (i32, i32)) {
        let (lw, lh) = (self.lw as i32, self.lh as i32);
        let map_w = (scene.width * TILE_PX) as i32;
        let map_h = (scene.height * TILE_PX) as i32;
        for y in 0..lh {
            let my = y + cy;
            if my < 0 || my >= map_h {
                continue;
            }
            let row = &mut self.logical[(y * lw) as usize..][..lw as usize];
            if my % T as i32 == 0 {
                for (x, p) in row.iter_mut().enumerate() {
                    let mx = x as i32 + cx;
                    if mx >= 0 && mx < map_w {
                        *p = darken_half(*p);
                    }
                }
            } else {
                let first = (T as i32 - cx.rem_euclid(T as i32)) % T as i32;
                for x in (first..lw).step_by(T) {
                    let mx = x + cx;
                    if mx >= 0 && mx < map_w {
                        row[x as usize] = darken_half(row[x as usize]);
                    }
                }
            }
        }
    }

    fn draw_actors(&mut self, world: &World, cam: (i32, i32)) {
        // Painter's order: lower on screen is nearer, drawn later.
        let mut order: Vec<(i32, usize)> = world
            .npcs
            .iter()
            .enumerate()
            .map(|(i, n)| (n.actor.y, i + 1))
            .collect();
        order.push((world.player.y, 0));
        order.sort_unstable();
        for (_, who) in order {
            let (actor, body, hair) = if who == 0 {
                (&world.player, PLAYER_BODY, PLAYER_HAIR)
            } else {
                let npc = &world.npcs[who - 1];
                (&npc.actor, npc.color, npc.color.scale(110))
            };
            self.draw_actor(actor, body, hair, cam);
        }
    }

    fn draw_actor(&mut self, actor: &Actor, body: Rgb, hair: Rgb, (cx, cy): (i32, i32)) {
        let sx = actor.x.div_euclid(SUB) - cx;
        let sy = actor.y.div_euclid(SUB) - cy;
        let (lw, lh) = (self.lw as i32, self.lh as i32);
        if sx + T as i32 <= 0 || sy + T as i32 <= 0 || sx >= lw || sy >= lh {
            return;
        }
        // Shadow under the feet.
        for (dy, half) in [(14, 4), (15, 5)] {
            for dx in 8 - half..8 + half {
                let (x, y) = (sx + dx, sy + dy);
                if x >= 0 && y >= 0 && x < lw && y < lh {
                    let p = &mut self.logical[(y * lw + x) as usize];
                    *p = pack(unpack(*p).scale(150));
                }
            }
        }
        let (pose, mirror) = match actor.facing {
            Dir::Down => (Pose::Front, false),
            Dir::Up => (Pose::Back, false),
            Dir::Right => (Pose::Side, false),
            Dir::Left => (Pose::Side, true),
        };
        let colours = |c: u8| -> Option<u32> {
            match c {
                b'o' => Some(pack(OUTLINE)),
                b'b' => Some(pack(body)),
                b'h' => Some(pack(hair)),
                b's' => Some(pack(SKIN)),
                b'e' => Some(pack(OUTLINE)),
                b'f' => Some(pack(body.scale(90))),
                _ => None,
            }
        };
        for (row, line) in sprites::rows(pose, actor.walk_frame()).iter().enumerate() {
            let y = sy + row as i32;
            if y < 0 || y >= lh {
                continue;
            }
            for (col, c) in line.bytes().enumerate() {
                let col = if mirror { T - 1 - col } else { col };
                let x = sx + col as i32;
                if x < 0 || x >= lw {
                    continue;
                }
                if let Some(p) = colours(c) {
                    self.logical[(y * lw + x) as usize] = p;
                }
            }
        }
    }

    /// Night: darken, red and green most, so the picture turns blue.
    fn tint(&mut self, night: u32) {
        let kr = 256 - night * 176 / 256;
        let kg = 256 - night * 150 / 256;
        let kb = 256 - night * 72 / 256;
        for p in &mut self.logical {
            let [r, g, b, _] = p.to_ne_bytes();
            *p = u32::from_ne_bytes([
                ((u32::from(r) * kr) >> 8) as u8,
                ((u32::from(g) * kg) >> 8) as u8,
                ((u32::from(b) * kb) >> 8) as u8,
                255,
            ]);
        }
    }

    fn draw_hud(&mut self, world: &World, settings: &Settings) {
        let lw = self.lw as i32;
        self.text(4, 4, &format!("T{:06}", world.tick), HUD_TEXT);
        if !settings.player_tags.is_empty() {
            let tags = settings.player_tags.join(" ");
            let max_chars = ((lw - 8 - 7 * GLYPH - 8) / GLYPH).max(0) as usize;
            let shown: String = tags.chars().take(max_chars).collect();
            let x = lw - 4 - shown.chars().count() as i32 * GLYPH;
            self.text(x, 4, &shown, HUD_TAGS);
        }
        if let Some(msg) = &world.message {
            self.message_box(&msg.text);
        }
    }

    fn message_box(&mut self, text: &str) {
        let (lw, lh) = (self.lw as i32, self.lh as i32);
        let cols = ((lw - 16) / GLYPH).max(1) as usize;
        let lines = wrap(text, cols, 3);
        let box_h = lines.len() as i32 * 10 + 8;
        let (x0, y0, x1, y1) = (4, lh - box_h - 4, lw - 4, lh - 4);
        for y in y0.max(0)..y1.min(lh) {
            for x in x0.max(0)..x1.min(lw) {
                let p = &mut self.logical[(y * lw + x) as usize];
                let border = y == y0 || y == y1 - 1 || x == x0 || x == x1 - 1;
                *p = if border {
                    pack(HUD_BORDER)
                } else {
                    pack(blend(Rgb(0x10, 0x10, 0x28), unpack(*p), 208))
                };
            }
        }
        for (i, line) in lines.iter().enumerate() {
            self.text(x0 + 4, y0 + 5 + i as i32 * 10, line, HUD_TEXT);
        }
    }

    /// Draws text with a one-pixel shadow, clipped to the view.
    fn text(&mut self, x: i32, y: i32, text: &str, colour: Rgb) {
        for (ox, oy, c) in [(1, 1, OUTLINE), (0, 0, colour)] {
            for (i, ch) in text.chars().enumerate() {
                let glyph = glyph(ch);
                for (row, bits) in glyph.iter().enumerate() {
                    for col in 0..8 {
                        if bits & (1 << col) != 0 {
                            self.put(
                                x + i as i32 * GLYPH + col + ox,
                                y + row as i32 + oy,
                                pack(c),
                            );
                        }
                    }
                }
            }
        }
    }

    fn put(&mut self, x: i32, y: i32, p: u32) {
        if x >= 0 && y >= 0 && (x as usize) < self.lw && (y as usize) < self.lh {
            self.logical[y as usize * self.lw + x as usize] = p;
        }
    }

    /// Scales the logical picture up by `zoom` into the canvas, cropping
    /// the right and bottom edges when the size is not a multiple of it.
    /// Each distinct row is built once and then repeated by the canvas, so
    /// a loaned region slot is written once per pixel and checksummed once
    /// per distinct row.
    fn upscale<C: Canvas + ?Sized>(&mut self, zoom: usize, canvas: &mut C) {
        let w = canvas.width() as usize;
        let h = canvas.height() as usize;
        self.row.resize(w * 4, 0);
        for ly in 0..self.lh {
            let y0 = ly * zoom;
            if y0 >= h {
                break;
            }
            let src = &self.logical[ly * self.lw..][..self.lw];
            if zoom == 1 {
                for (d, s) in self.row.chunks_exact_mut(4).zip(src) {
                    d.copy_from_slice(&s.to_ne_bytes());
                }
            } else {
                for (d, s) in self.row.chunks_exact_mut(4 * zoom).zip(src) {
                    let px = s.to_ne_bytes();
                    for p in d.chunks_exact_mut(4) {
                        p.copy_from_slice(&px);
                    }
                }
                // A width that is not a multiple of zoom: the last scene
                // pixel is cut off on the right.
                let done = (w / zoom) * zoom;
                if done < w {
                    let px = src[w / zoom].to_ne_bytes();
                    for p in self.row[done * 4..].chunks_exact_mut(4) {
                        p.copy_from_slice(&px);
                    }
                }
            }
            canvas.put_row(y0 as u32, &self.row);
            for r in 1..zoom.min(h - y0) {
                canvas.copy_row(y0 as u32, (y0 + r) as u32);
            }
        }
    }
}

/// Top-left of the view (`lw`×`lh` logical pixels) in scene pixels:
/// centred on the player, kept inside the map (or centring the map when it
/// is smaller than the view).
fn camera(scene: &Scene, player: &Actor, lw: usize, lh: usize) -> (i32, i32) {
    let axis = |p: i32, view: usize, map_tiles: u32| -> i32 {
        let map = (map_tiles * TILE_PX) as i32;
        let view = view as i32;
        if map <= view {
            -(view - map) / 2
        } else {
            (p.div_euclid(SUB) + T as i32 / 2 - view / 2).clamp(0, map - view)
        }
    };
    (
        axis(player.x, lw, scene.width),
        axis(player.y, lh, scene.height),
    )
}

fn glyph(ch: char) -> [u8; 8] {
    let c = ch as usize;
    if c < 128 {
        font8x8::legacy::BASIC_LEGACY[c]
    } else {
        font8x8::legacy::BASIC_LEGACY[b'?' as usize]
    }
}

/// Word-wraps text into at most `max_lines` lines of `cols` characters,
/// ending with `...` when it does not fit.
pub fn wrap(text: &str, cols: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let word: String = word.chars().take(cols).collect();
        let needed = if cur.is_empty() {
            word.chars().count()
        } else {
            cur.chars().count() + 1 + word.chars().count()
        };
        if needed > cols && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let keep = cols.saturating_sub(3).min(last.chars().count());
            *last = last.chars().take(keep).collect::<String>() + "...";
        }
    }
    lines
}

/// Draws one 16×16 tile texture. `frame` animates water.
fn tile_texture(pattern: Pattern, c: Rgb, a: Rgb, glyph: char, frame: usize) -> Texture {
    let mut t = [pack(c); T * T];
    let seed = glyph as u32;
    let mut set = |x: usize, y: usize, col: Rgb| t[y * T + x] = pack(col);
    match pattern {
        Pattern::Plain => {}
        Pattern::Speckle => {
            for y in 0..T {
                for x in 0..T {
                    match hash3(x as u32, y as u32, seed) % 13 {
                        0 | 1 => set(x, y, a),
                        2 => set(x, y, c.scale(232)),
                        _ => {}
                    }
                }
            }
        }
        Pattern::Checker => {
            for y in 0..T {
                for x in 0..T {
                    if (x / 8 + y / 8) % 2 == 1 {
                        set(x, y, a);
                    }
                }
            }
        }
        Pattern::Planks => {
            for y in 0..T {
                for x in 0..T {
                    let seam = (y / 4 * 7 + 3) % T;
                    if y % 4 == 3 || x == seam {
                        set(x, y, a);
                    } else if (x + y * 3) % 11 == 0 {
                        set(x, y, c.scale(236));
                    }
                }
            }
        }
        Pattern::Brick => {
            for y in 0..T {
                for x in 0..T {
                    let offset = if (y / 4) % 2 == 0 { 0 } else { 4 };
                    if y % 4 == 3 || (x + offset) % 8 == 0 {
                        set(x, y, a);
                    } else if y % 4 == 0 {
                        set(x, y, c.scale(280));
                    }
                }
            }
        }
        Pattern::Water => {
            for y in 0..T {
                for x in 0..T {
                    let band = y / 4;
                    if y % 4 == 1 && (x + 2 * frame + 5 * band) % 8 < 3 {
                        set(x, y, a);
                    } else if y % 4 == 2 && (x + 2 * frame + 5 * band + 1) % 8 < 1 {
                        set(x, y, c.scale(300));
                    }
                }
            }
        }
        Pattern::Flowers => {
            for y in 0..T {
                for x in 0..T {
                    if hash3(x as u32, y as u32, seed).is_multiple_of(17) {
                        set(x, y, c.scale(225));
                    }
                }
            }
            for (fx, fy) in [(3i32, 3i32), (11, 5), (6, 11), (13, 13)] {
                for (dx, dy) in [(0, -1), (-1, 0), (1, 0), (0, 1)] {
                    set((fx + dx) as usize, (fy + dy) as usize, a);
                }
                set(fx as usize, fy as usize, Rgb(0xfc, 0xe8, 0x70));
            }
        }
        Pattern::Tree => {
            // Ground in accent, a canopy in colour, a trunk.
            t = [pack(a); T * T];
            let mut set = |x: usize, y: usize, col: Rgb| t[y * T + x] = pack(col);
            for y in 12..T {
                for x in 7..9 {
                    set(x, y, Rgb(0x6a, 0x44, 0x22));
                }
            }
            for y in 0..T {
                for x in 0..T {
                    let (dx, dy) = (x as i32 * 2 - 15, y as i32 * 2 - 13);
                    let d2 = dx * dx + dy * dy;
                    if d2 <= 14 * 14 {
                        let shade = if d2 > 11 * 11 {
                            OUTLINE
                        } else if dx + dy > 6 {
                            c.scale(170)
                        } else if dx + dy < -10 {
                            c.scale(300)
                        } else {
                            c
                        };
                        set(x, y, shade);
                    }
                }
            }
        }
        Pattern::Stone => {
            for y in 0..T {
                for x in 0..T {
                    let (bx, by) = (x % 8, y % 8);
                    if bx == 7 || by == 7 {
                        set(x, y, c.scale(150));
                    } else if bx == 0 || by == 0 {
                        set(x, y, c.scale(290));
                    } else if hash3(x as u32, y as u32, seed).is_multiple_of(19) {
                        set(x, y, a);
                    }
                }
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_on_words_and_elides() {
        assert_eq!(
            wrap("the old well is dry", 8, 3),
            vec!["the old", "well is", "dry"]
        );
        assert_eq!(wrap("a b c d e f g", 3, 2), vec!["a b", "..."]);
        assert_eq!(wrap("", 10, 3), Vec::<String>::new());
    }

    #[test]
    fn zoom_keeps_the_view_near_320_by_180() {
        assert_eq!(Renderer::zoom_for(320, 180, 0), 1);
        assert_eq!(Renderer::zoom_for(1920, 1080, 0), 6);
        assert_eq!(Renderer::zoom_for(1280, 720, 0), 4);
        assert_eq!(Renderer::zoom_for(100, 50, 0), 1);
        assert_eq!(Renderer::zoom_for(1920, 1080, 2), 2);
        assert_eq!(Renderer::zoom_for(3, 3, 8), 3);
    }

    #[test]
    fn darken_half_keeps_alpha_and_halves_channels() {
        let p = darken_half(pack(Rgb(200, 101, 3)));
        assert_eq!(p.to_ne_bytes(), [100, 50, 1, 255]);
    }
}
